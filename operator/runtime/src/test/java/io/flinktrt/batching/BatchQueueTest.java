package io.flinktrt.batching;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rule for when a batch is due, with time and the device's state given explicitly (no clock, no
 * sleeps).
 */
class BatchQueueTest {

    private static final long MS = Duration.ofMillis(1).toNanos();
    private static final boolean DEVICE_FREE = true;
    private static final boolean DEVICE_BUSY = false;

    @Test
    void aBatchIsDueAsSoonAsItHoldsMaxBatchRecordsEvenWhileTheDeviceIsBusy() {
        BatchQueue<String, String> queue = new BatchQueue<>(3, Duration.ofHours(1).toNanos());
        assertThat(queue.nanosUntilDue(2, 0, DEVICE_FREE, 0))
                .isEqualTo(Duration.ofHours(1).toNanos());
        assertThat(queue.nanosUntilDue(3, 0, DEVICE_FREE, 0)).isZero();
        assertThat(queue.nanosUntilDue(3, 0, DEVICE_BUSY, 0))
                .as("a full batch leaves to overlap its copies")
                .isZero();
    }

    @Test
    void aPartialBatchIsDueWhenItsOldestRecordHasWaitedMaxDelay() {
        BatchQueue<String, String> queue = new BatchQueue<>(100, 50 * MS);
        assertThat(queue.nanosUntilDue(2, 10 * MS, DEVICE_FREE, 59 * MS)).isEqualTo(MS);
        assertThat(queue.nanosUntilDue(2, 10 * MS, DEVICE_FREE, 60 * MS)).isZero();
        assertThat(queue.nanosUntilDue(2, 10 * MS, DEVICE_FREE, 90 * MS)).isZero();
    }

    /**
     * Cut at max-delay while the device computes another batch, it would only wait for it, smaller.
     */
    @Test
    void aPartialBatchPastMaxDelayWaitsWhileTheDeviceIsBusy() {
        BatchQueue<String, String> queue = new BatchQueue<>(100, 50 * MS);
        assertThat(queue.nanosUntilDue(2, 0, DEVICE_BUSY, 80 * MS)).isEqualTo(Long.MAX_VALUE);
        assertThat(queue.nanosUntilDue(2, 0, DEVICE_FREE, 80 * MS)).isZero();
    }

    @Test
    void anEmptyBatchIsNeverDue() {
        BatchQueue<String, String> queue = new BatchQueue<>(3, 0);
        assertThat(queue.nanosUntilDue(0, 0, DEVICE_FREE, 0)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void takeTakesAtMostTheRowsLeftOldestFirstAndTheRestWaits() {
        BatchQueue<String, String> queue = new BatchQueue<>(3, 0);
        for (String id : List.of("a", "b", "c")) {
            queue.add(record(id, 0));
        }
        assertThat(records(queue.take(2))).containsExactly("a", "b");
        assertThat(records(queue.take(3))).containsExactly("c");
        assertThat(queue.take(3)).isEmpty();
    }

    @Test
    void aRecordCompletedWhileWaitingIsNotTaken() {
        BatchQueue<String, String> queue = new BatchQueue<>(10, 100 * MS);
        ScheduledRecord<String, String> timedOut = record("a", 0);
        queue.add(timedOut);
        queue.add(record("b", 50 * MS));
        timedOut.fail(new Exception("timed out"));
        assertThat(records(queue.take(10))).containsExactly("b");
    }

    @Test
    void addSaysWhenAWaitingBatcherMustLookAgain() {
        BatchQueue<String, String> queue = new BatchQueue<>(3, 100 * MS);
        assertThat(queue.add(record("a", 0)))
                .as("the batcher took everything: it waits for records")
                .isTrue();
        assertThat(queue.add(record("b", 0)))
                .as("it has not taken a yet: it will see b too")
                .isFalse();
        queue.take(3);
        assertThat(queue.add(record("c", 0))).isTrue();
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
