package io.flinktrt.batching;

import io.flinktrt.backend.ModelSignature.SequenceAxis;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Which length's queue gives the next batch: times and the device's state given, no threads. */
class LengthQueuesTest {

    private static final long MS = 1_000_000;

    private final LengthQueues<String, String> queues =
            new LengthQueues<>(new SequenceAxis(List.of(16, 128), Set.of("ids")), 4, 5 * MS);

    @Test
    void aRecordWaitsInTheQueueOfTheSmallestLengthThatHoldsIt() {
        queues.add(record(0, 16));
        queues.add(record(0, 17));
        assertThat(queues.take(0)).extracting(r -> r.tokens).containsExactly(16);
        assertThat(queues.take(1)).extracting(r -> r.tokens).containsExactly(17);
    }

    @Test
    void aPartialQueueIsDueAtMaxDelayOnlyWhileTheDeviceIsFreeAndAFullOneAtOnce() {
        queues.add(record(0, 100));
        assertThat(queues.due(true, false, 4 * MS)).isEqualTo(-1);
        assertThat(queues.nanosUntilDue(true, 4 * MS)).isEqualTo(MS);
        assertThat(queues.due(false, false, 6 * MS)).isEqualTo(-1);
        assertThat(queues.due(true, false, 6 * MS)).isEqualTo(1);
        for (int i = 0; i < 4; i++) {
            queues.add(record(7 * MS, 10));
        }
        assertThat(queues.due(false, false, 7 * MS)).isEqualTo(0); // full: the device busy or not
    }

    @Test
    void anOverdueQueueOfRareLengthsGoesBeforeAFullQueueThatFilledAfterIt() {
        queues.add(record(0, 100)); // one long text
        for (int i = 0; i < 4; i++) {
            queues.add(record(6 * MS, 10)); // short ones fill their queue later
        }
        assertThat(queues.due(true, false, 6 * MS)).isEqualTo(1);
        queues.take(1);
        assertThat(queues.due(true, false, 6 * MS)).isEqualTo(0);
    }

    @Test
    void drainingEveryQueueHoldingARecordIsDueOldestFirst() {
        queues.add(record(2 * MS, 10));
        queues.add(record(1 * MS, 100));
        assertThat(queues.due(false, true, 2 * MS)).isEqualTo(1);
        queues.take(1);
        assertThat(queues.due(false, true, 2 * MS)).isEqualTo(0);
        queues.take(0);
        assertThat(queues.isEmpty()).isTrue();
    }

    private static ScheduledRecord<String, String> record(long arrivalNanos, int tokens) {
        ScheduledRecord<String, String> record =
                new ScheduledRecord<>("r", arrivalNanos) {
                    @Override
                    protected void onOutput(String output) {}

                    @Override
                    protected void onFailure(Throwable error) {}
                };
        record.tokens = tokens;
        return record;
    }
}
