package io.flinktrt.batching;

import io.flinktrt.backend.ModelSignature.SequenceAxis;

import java.util.List;

/**
 * The waiting records of a model with a sequence axis, one {@link BatchQueue} per sequence length
 * (as Beam's length bucketing): a record waits with those that run at the same length, so a batch
 * is padded only to its own bucket, not to the longest text of a random mix. Each queue keeps the
 * max-delay rule on its own: a queue is due when it holds max batch records, or when its oldest
 * record has waited max-delay and the device could start a batch. Not thread-safe: {@link
 * BatchScheduler} guards it.
 */
final class LengthQueues<P, OUT> {

    private final SequenceAxis axis;
    private final List<BatchQueue<P, OUT>> queues;

    LengthQueues(SequenceAxis axis, int maxBatchSize, long maxDelayNanos) {
        this.axis = axis;
        this.queues =
                axis.lengths().stream()
                        .map(length -> new BatchQueue<P, OUT>(maxBatchSize, maxDelayNanos))
                        .toList();
    }

    /**
     * Adds a record to its length's queue; returns whether a waiting batcher must look again (that
     * queue was empty, or is full now).
     */
    boolean add(ScheduledRecord<P, OUT> record) {
        BatchQueue<P, OUT> queue =
                queues.get(axis.lengths().indexOf(axis.bucketFor(record.tokens)));
        return queue.add(record) || queue.size() >= queue.maxBatchSize();
    }

    /**
     * The queue whose batch is due at {@code now} (full, or its oldest record waited max-delay and
     * the device is free; draining, any that holds a record), the one whose oldest record arrived
     * first when several are: a queue of rare lengths past its max-delay goes before a full queue
     * of common ones that filled after it, so that a busy length never starves another. -1 when
     * none is due.
     */
    int due(boolean deviceFree, boolean draining, long now) {
        int chosen = -1;
        long chosenOldest = Long.MAX_VALUE;
        for (int q = 0; q < queues.size(); q++) {
            BatchQueue<P, OUT> queue = queues.get(q);
            long oldest = queue.oldestOpenArrival();
            if (oldest == Long.MAX_VALUE) {
                continue;
            }
            boolean due =
                    draining || queue.nanosUntilDue(queue.size(), oldest, deviceFree, now) == 0;
            if (due && oldest < chosenOldest) {
                chosen = q;
                chosenOldest = oldest;
            }
        }
        return chosen;
    }

    /** Nanoseconds until some queue is due; {@link Long#MAX_VALUE} when only a record may do it. */
    long nanosUntilDue(boolean deviceFree, long now) {
        long wait = Long.MAX_VALUE;
        for (BatchQueue<P, OUT> queue : queues) {
            long oldest = queue.oldestOpenArrival();
            if (oldest != Long.MAX_VALUE) {
                wait = Math.min(wait, queue.nanosUntilDue(queue.size(), oldest, deviceFree, now));
            }
        }
        return wait;
    }

    /** Up to max batch open records of queue {@code index}, oldest first. */
    List<ScheduledRecord<P, OUT>> take(int index) {
        BatchQueue<P, OUT> queue = queues.get(index);
        return queue.take(queue.maxBatchSize());
    }

    boolean isEmpty() {
        return queues.stream().allMatch(q -> q.oldestOpenArrival() == Long.MAX_VALUE);
    }
}
