package io.flinktrt.operator.batching;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The records of one slot waiting for a batch, oldest first, and the rule for when a batch is due:
 * when max batch records wait, or when the oldest one still waiting has waited max-delay and the
 * device could start it. Time and the device's state are given by the caller. Not thread-safe: {@link BatchScheduler} guards it.
 */
final class BatchQueue<P, OUT> {

    private final int maxBatchSize;
    private final long maxDelayNanos;
    private final ArrayDeque<ScheduledRecord<P, OUT>> waiting = new ArrayDeque<>();
    /** Size at which records completed while waiting (timed out) are dropped, so the queue stays bounded. */
    private int pruneAt;

    BatchQueue(int maxBatchSize, long maxDelayNanos) {
        this.maxBatchSize = maxBatchSize;
        this.maxDelayNanos = maxDelayNanos;
        this.pruneAt = 2 * maxBatchSize;
    }

    /** Adds a record; returns whether a waiting worker must look again (a new oldest record, or a full batch). */
    boolean add(ScheduledRecord<P, OUT> record) {
        waiting.add(record);
        if (waiting.size() >= pruneAt) {
            waiting.removeIf(ScheduledRecord::isDone);
            pruneAt = Math.max(2 * waiting.size(), 2 * maxBatchSize);
        }
        return waiting.size() == 1 || waiting.size() == maxBatchSize;
    }

    /**
     * Nanoseconds from {@code now} until a batch is due: 0 when it is due, {@link Long#MAX_VALUE}
     * when nothing waits, or when only max-delay would make it due but the device is busy
     * ({@code deviceFree} false: as many batches run as the backend computes at once). Such a batch
     * keeps gathering records until a run ends or it is full: cut at max-delay it would only wait
     * for the device, smaller, and at high load the device would then do fewer rows per ms than
     * arrive. The deadline is always the oldest waiting record's, never one of a batch that left.
     */
    long nanosUntilDue(long now, boolean deviceFree) {
        while (!waiting.isEmpty() && waiting.peek().isDone()) {
            waiting.poll();
        }
        if (waiting.isEmpty()) {
            return Long.MAX_VALUE;
        }
        if (waiting.size() >= maxBatchSize) {
            return 0;
        }
        if (!deviceFree) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, waiting.peek().arrivalNanos + maxDelayNanos - now);
    }

    /** Takes up to max batch records that are still open, oldest first; the list may be empty. */
    List<ScheduledRecord<P, OUT>> takeBatch() {
        List<ScheduledRecord<P, OUT>> batch = new ArrayList<>(Math.min(waiting.size(), maxBatchSize));
        while (batch.size() < maxBatchSize && !waiting.isEmpty()) {
            ScheduledRecord<P, OUT> next = waiting.poll();
            if (!next.isDone()) {
                batch.add(next);
            }
        }
        return batch;
    }
}
