package io.flinktrt.batch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Groups items into batches: a batch is handed on when it holds {@code maxBatchSize} items or when
 * its oldest item has waited {@code maxDelay}, whichever comes first. Items are added from one
 * thread (the task's), batches that time out are handed on from the batcher's timer thread.
 */
public final class Batcher<T> implements AutoCloseable {

    /** Receives each batch, on the thread that closed it. Must not throw. */
    @FunctionalInterface
    public interface BatchHandler<T> {
        void handle(List<T> batch);
    }

    private final int maxBatchSize;
    private final long maxDelayNanos;
    private final BatchHandler<T> handler;
    private final ScheduledExecutorService timer;

    private List<T> pending;
    private ScheduledFuture<?> deadline;
    /** Tells a deadline that fires late which batch it was set for. */
    private long batchSequence;

    public Batcher(int maxBatchSize, Duration maxDelay, BatchHandler<T> handler, String threadName) {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("Max batch size must be at least 1, was " + maxBatchSize);
        }
        if (maxDelay.isNegative()) {
            throw new IllegalArgumentException("Max delay must not be negative, was " + maxDelay);
        }
        this.maxBatchSize = maxBatchSize;
        this.maxDelayNanos = maxDelay.toNanos();
        this.handler = handler;
        this.pending = new ArrayList<>(maxBatchSize);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    public void add(T item) {
        List<T> ready = null;
        synchronized (this) {
            pending.add(item);
            if (pending.size() >= maxBatchSize || maxDelayNanos == 0) {
                ready = takePending();
            } else if (pending.size() == 1) {
                long sequence = ++batchSequence;
                deadline = timer.schedule(() -> onDeadline(sequence), maxDelayNanos, TimeUnit.NANOSECONDS);
            }
        }
        if (ready != null) {
            handler.handle(ready);
        }
    }

    /** Hands on whatever is pending now. */
    public void flush() {
        List<T> ready;
        synchronized (this) {
            ready = pending.isEmpty() ? null : takePending();
        }
        if (ready != null) {
            handler.handle(ready);
        }
    }

    public synchronized int pendingCount() {
        return pending.size();
    }

    private void onDeadline(long sequence) {
        List<T> ready;
        synchronized (this) {
            if (sequence != batchSequence || pending.isEmpty()) {
                return; // that batch already left full
            }
            ready = takePending();
        }
        handler.handle(ready);
    }

    private List<T> takePending() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        batchSequence++;
        List<T> batch = pending;
        pending = new ArrayList<>(maxBatchSize);
        return batch;
    }

    /**
     * Stops the timer. Pending items are dropped here on purpose: in the Flink operator they are
     * still in the async operator's queue, so a restart replays them.
     */
    @Override
    public void close() {
        timer.shutdownNow();
        synchronized (this) {
            pending = new ArrayList<>();
        }
    }
}
