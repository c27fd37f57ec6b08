package io.flinktrt.batching;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The records of one slot waiting for a batch, oldest first, and the rule for when the batch being
 * filled is due: when it holds max batch records, or when its oldest record has waited max-delay
 * and the device could start it. Time and the device's state are given by the caller. Not
 * thread-safe: {@link BatchScheduler} guards it.
 */
final class BatchQueue<P, OUT> {

    private final int maxBatchSize;
    private final long maxDelayNanos;
    private final ArrayDeque<ScheduledRecord<P, OUT>> waiting = new ArrayDeque<>();

    /**
     * Size at which records completed while waiting (timed out) are dropped, so the queue stays
     * bounded.
     */
    private int pruneAt;

    BatchQueue(int maxBatchSize, long maxDelayNanos) {
        this.maxBatchSize = maxBatchSize;
        this.maxDelayNanos = maxDelayNanos;
        this.pruneAt = 2 * maxBatchSize;
    }

    /** Adds a record; returns whether a waiting batcher must look again (the queue was empty). */
    boolean add(ScheduledRecord<P, OUT> record) {
        waiting.add(record);
        if (waiting.size() >= pruneAt) {
            waiting.removeIf(ScheduledRecord::isDone);
            pruneAt = Math.max(2 * waiting.size(), 2 * maxBatchSize);
        }
        return waiting.size() == 1;
    }

    /**
     * Takes up to {@code rows} records that are still open, oldest first; the list may be empty.
     */
    List<ScheduledRecord<P, OUT>> take(int rows) {
        List<ScheduledRecord<P, OUT>> taken = new ArrayList<>(Math.min(waiting.size(), rows));
        while (taken.size() < rows && !waiting.isEmpty()) {
            ScheduledRecord<P, OUT> next = waiting.poll();
            if (!next.isDone()) {
                taken.add(next);
            }
        }
        return taken;
    }

    /**
     * Nanoseconds from {@code now} until a batch of {@code rows} records, the oldest arrived at
     * {@code oldestArrivalNanos}, is due: 0 when it is due; {@link Long#MAX_VALUE} when it is
     * empty, or when only max-delay would make it due but the device is busy ({@code deviceFree}
     * false: as many batches run as it computes at once). Such a batch keeps gathering records
     * until a run ends or it is full: cut at max-delay it would only wait for the device, smaller,
     * and at high load the device would then do fewer rows per ms than arrive (a standing queue).
     */
    long nanosUntilDue(int rows, long oldestArrivalNanos, boolean deviceFree, long now) {
        if (rows == 0) {
            return Long.MAX_VALUE;
        }
        if (rows >= maxBatchSize) {
            return 0;
        }
        if (!deviceFree) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, oldestArrivalNanos + maxDelayNanos - now);
    }

    int maxBatchSize() {
        return maxBatchSize;
    }

    /** Records waiting, those completed meanwhile included. */
    int size() {
        return waiting.size();
    }

    /**
     * When the oldest open record arrived ({@link Long#MAX_VALUE} when none is open); drops
     * completed ones ahead of it.
     */
    long oldestOpenArrival() {
        while (!waiting.isEmpty() && waiting.peek().isDone()) {
            waiting.poll();
        }
        return waiting.isEmpty() ? Long.MAX_VALUE : waiting.peek().arrivalNanos;
    }
}
