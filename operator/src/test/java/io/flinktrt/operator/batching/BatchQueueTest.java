package io.flinktrt.operator.batching;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The rule for when a batch is due, with time given explicitly (no clock, no sleeps). */
class BatchQueueTest {

    private static final long MS = Duration.ofMillis(1).toNanos();

    @Test
    void aBatchIsDueAsSoonAsMaxBatchRecordsWait() {
        BatchQueue<String, String> queue = new BatchQueue<>(3, Duration.ofHours(1).toNanos());
        queue.add(record("a", 0));
        queue.add(record("b", 0));
        assertThat(queue.nanosUntilDue(0, true)).isEqualTo(Duration.ofHours(1).toNanos());
        queue.add(record("c", 0));
        assertThat(queue.nanosUntilDue(0, true)).isZero();
        assertThat(records(queue.takeBatch())).containsExactly("a", "b", "c");
        assertThat(queue.nanosUntilDue(0, true)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aPartialBatchIsDueWhenItsOldestRecordHasWaitedMaxDelay() {
        BatchQueue<String, String> queue = new BatchQueue<>(100, 50 * MS);
        queue.add(record("a", 0));
        queue.add(record("b", 10 * MS));
        assertThat(queue.nanosUntilDue(49 * MS, true)).isEqualTo(MS);
        assertThat(queue.nanosUntilDue(50 * MS, true)).isZero();
        assertThat(records(queue.takeBatch())).containsExactly("a", "b");
    }

    @Test
    void aBatchTakesAtMostMaxBatchAndTheRestWaitsForTheNext() {
        BatchQueue<String, String> queue = new BatchQueue<>(2, 0);
        for (String id : List.of("a", "b", "c")) {
            queue.add(record(id, 0));
        }
        assertThat(records(queue.takeBatch())).containsExactly("a", "b");
        assertThat(queue.nanosUntilDue(0, true)).isZero(); // zero delay: whatever waits is due
        assertThat(records(queue.takeBatch())).containsExactly("c");
    }

    /** The stale-deadline bug: a batch that left full must not leave its deadline to the next one. */
    @Test
    void theDeadlineIsTheOldestWaitingRecordsNotOneOfABatchThatLeft() {
        BatchQueue<String, String> queue = new BatchQueue<>(2, 100 * MS);
        queue.add(record("a", 0));
        queue.add(record("b", 10 * MS));
        assertThat(records(queue.takeBatch())).containsExactly("a", "b"); // left full at 10 ms
        queue.add(record("c", 60 * MS));
        assertThat(queue.nanosUntilDue(100 * MS, true)).as("at a's deadline, c has waited 40 ms").isEqualTo(60 * MS);
        assertThat(queue.nanosUntilDue(160 * MS, true)).isZero();
    }

    @Test
    void aRecordCompletedWhileWaitingIsSkippedAndNoLongerSetsTheDeadline() {
        BatchQueue<String, String> queue = new BatchQueue<>(10, 100 * MS);
        ScheduledRecord<String, String> timedOut = record("a", 0);
        queue.add(timedOut);
        queue.add(record("b", 50 * MS));
        timedOut.fail(new Exception("timed out"));
        assertThat(queue.nanosUntilDue(100 * MS, true)).isEqualTo(50 * MS);
        assertThat(records(queue.takeBatch())).containsExactly("b");
    }

    @Test
    void addSaysWhenAWaitingBatcherMustLookAgain() {
        BatchQueue<String, String> queue = new BatchQueue<>(3, 100 * MS);
        assertThat(queue.add(record("a", 0))).as("a new oldest record: a new deadline").isTrue();
        assertThat(queue.add(record("b", 0))).isFalse();
        assertThat(queue.add(record("c", 0))).as("a full batch").isTrue();
    }

    private static ScheduledRecord<String, String> record(String id, long arrivalNanos) {
        return new ScheduledRecord<>(id, arrivalNanos) {
            @Override
            protected void onOutput(String output) {}

            @Override
            protected void onFailure(Throwable error) {}
        };
    }

    private static List<String> records(List<ScheduledRecord<String, String>> batch) {
        return batch.stream().map(r -> r.record).toList();
    }
}
