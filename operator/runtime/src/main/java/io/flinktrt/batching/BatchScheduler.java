package io.flinktrt.batching;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature.SequenceAxis;
import io.flinktrt.backend.TensorSpec;

import org.apache.flink.annotation.Internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Batches the records of one task slot on one {@link ModelRunner}, the way Triton's dynamic batcher
 * does: records wait in one queue; a batch is formed when a buffer set is free, from max batch
 * waiting records, or once the oldest of them has waited max-delay and the device could start it
 * (fewer batches run than {@link ModelRunner#concurrentBatches}; until then more records join it).
 * Each batch is formed once and runs as formed (the runner decides how to compute it, e.g. in which
 * bucket).
 *
 * <p>One thread, the batcher, waits for a free buffer set, then copies each waiting record into the
 * next row as it comes (large rows are copied while the batch waits, not once it is due), until the
 * batch is due; records joining with over {@value #COPY_THREAD_BYTES} bytes are copied by the
 * scheduler's copy threads while the batcher goes on (the run waits for those copies), and a range
 * over {@value #PARALLEL_COPY_BYTES} bytes reloaded for a retry is copied by them too. Outputs are
 * read on the backend's thread that completes the run. {@link #submit} never blocks: a slow backend
 * pushes back through the caller's own bound on records in flight (Flink's async capacity).
 *
 * <p>A model with a sequence axis (text) batches by length instead: each record's length is
 * measured (tokenized) on the copy threads when it arrives, and it waits in the queue of its length
 * bucket ({@link LengthQueues}); once a buffer set is free, the first queue that is due gives the
 * batch, which runs at that queue's length.
 *
 * <p>A batch the backend fails is split in halves and the halves retried, depth first, so that only
 * the records the backend fails on alone fail ({@link RowFailedException}); the retries are bounded
 * (see {@link RunningBatch}).
 *
 * <p>The caller opens and closes the runner; close this scheduler first.
 */
@Internal
public final class BatchScheduler<P, OUT> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchScheduler.class);

    /** Batches with more input bytes than this are copied into the buffers by several threads. */
    public static final long PARALLEL_COPY_BYTES = 4L << 20;

    /**
     * Records joining a batch with more input bytes than this are copied into its rows on the copy
     * threads while the batcher goes on taking records.
     */
    public static final long COPY_THREAD_BYTES = 128L << 10;

    final String name;
    final RowCodec<P, OUT> codec;
    final BatchListener listener;
    private final ModelRunner runner;
    private final int concurrentBatches;
    private final long rowBytes;
    private final int copyThreads;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final BatchQueue<P, OUT> queue;

    /** The model's sequence axis; with one, records wait in {@link #lengthQueues}. */
    final SequenceAxis sequence;

    private final LengthQueues<P, OUT> lengthQueues;

    /** Runs given to the backend and not yet ended; guarded by {@link #lock}. */
    private int running;

    /** Records being measured on the copy threads, not yet queued; guarded by {@link #lock}. */
    private int measuring;

    private final Thread batcher;
    private volatile ExecutorService copyPool;
    private boolean closed;

    /** Set by {@link #drainAndClose}: batches leave as soon as the queue is empty. */
    private boolean draining;

    public BatchScheduler(
            ModelRunner runner,
            RowCodec<P, OUT> codec,
            BatchingConfig config,
            BatchListener listener) {
        if (config.maxBatchSize() > runner.signature().maxBatchSize()) {
            throw new IllegalArgumentException(
                    "Max batch size "
                            + config.maxBatchSize()
                            + " is above the runner's "
                            + runner.signature().maxBatchSize()
                            + "; open the runner with a max batch at least as large.");
        }
        this.name = config.name();
        this.runner = runner;
        this.concurrentBatches = Math.max(1, runner.concurrentBatches());
        this.codec = codec;
        this.listener = listener;
        this.rowBytes =
                runner.signature().inputs().stream().mapToLong(TensorSpec::sampleBytes).sum();
        this.copyThreads = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        this.queue = new BatchQueue<>(config.maxBatchSize(), config.maxDelay().toNanos());
        this.sequence = runner.signature().sequence();
        this.lengthQueues =
                sequence.varies()
                        ? new LengthQueues<>(
                                sequence, config.maxBatchSize(), config.maxDelay().toNanos())
                        : null;
        this.batcher = new Thread(this::formBatches, "inference-batcher-" + name);
        batcher.setDaemon(true);
        batcher.start();
    }

    /**
     * Queues a record, arriving now, for the next batch; never blocks. The future completes with
     * its output once its batch has run, or exceptionally with a {@link RowFailedException}.
     * Completing or cancelling it first (a timeout) takes the record out of the queue.
     */
    public CompletableFuture<OUT> submit(P record) {
        FutureRecord<P, OUT> scheduled = new FutureRecord<>(record, System.nanoTime());
        submit(scheduled);
        return scheduled.future;
    }

    /**
     * Queues a record for the next batch; never blocks. It completes through its own {@link
     * ScheduledRecord#onOutput} or {@link ScheduledRecord#onFailure}.
     */
    public void submit(ScheduledRecord<P, OUT> scheduled) {
        lock.lock();
        try {
            if (closed) {
                scheduled.fail(new IllegalStateException("Batch scheduler " + name + " is closed"));
                return;
            } else if (lengthQueues == null) {
                if (queue.add(scheduled)) {
                    changed.signal();
                }
                return;
            }
            measuring++;
        } finally {
            lock.unlock();
        }
        try {
            copyPool().execute(() -> measureAndQueue(scheduled));
        } catch (RejectedExecutionException e) { // closed meanwhile: it stays open (Flink replays)
            queueMeasured(null);
        }
    }

    /** On a copy thread: the record's length (its tokens), then its length's queue. */
    private void measureAndQueue(ScheduledRecord<P, OUT> scheduled) {
        try {
            scheduled.tokens = codec.sequenceLength(scheduled.record, sequence.longest());
        } catch (RuntimeException e) {
            scheduled.fail(new RowFailedException("Could not prepare this record: " + e, e));
        }
        queueMeasured(scheduled);
    }

    private void queueMeasured(ScheduledRecord<P, OUT> scheduled) {
        lock.lock();
        try {
            measuring--;
            if (scheduled != null && !scheduled.isDone() && !closed) {
                if (lengthQueues.add(scheduled) || draining) {
                    changed.signal();
                }
            } else if (draining) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A record whose caller holds a {@link CompletableFuture}; completing that first leaves the
     * record out.
     */
    private static final class FutureRecord<P, OUT> extends ScheduledRecord<P, OUT> {
        final CompletableFuture<OUT> future = new CompletableFuture<>();

        FutureRecord(P record, long arrivalNanos) {
            super(record, arrivalNanos);
        }

        @Override
        public boolean isDone() {
            return super.isDone() || future.isDone();
        }

        @Override
        protected void onOutput(OUT output) {
            future.complete(output);
        }

        @Override
        protected void onFailure(Throwable error) {
            future.completeExceptionally(error);
        }
    }

    /**
     * The batcher thread: a free buffer set first, then records copied in as they come until the
     * batch is due.
     */
    private void formBatches() {
        try {
            while (true) {
                BatchBuffers buffers =
                        runner.acquire(); // waits while every buffer set is in flight
                RunningBatch<P, OUT> batch = new RunningBatch<>(this, buffers, rowBytes);
                try {
                    if (lengthQueues == null) {
                        fill(batch);
                    } else {
                        fillFromDueLength(batch);
                    }
                } catch (InterruptedException e) {
                    batch.abandon();
                    throw e;
                }
                batch.start();
            }
        } catch (InterruptedException e) {
            // closed; records still waiting are the caller's (Flink replays them)
        } catch (RuntimeException | Error e) {
            LOG.error("Batch scheduler {} stopped: records wait until they time out", name, e);
        }
    }

    /**
     * Takes waiting records into the batch, copying them in outside the lock, until it is due. A
     * record that completes (times out) once taken only leaves its row unused.
     */
    private void fill(RunningBatch<P, OUT> batch) throws InterruptedException {
        while (true) {
            List<ScheduledRecord<P, OUT>> joining;
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        throw new InterruptedException();
                    }
                    joining = queue.take(queue.maxBatchSize() - batch.size());
                    if (!joining.isEmpty()) {
                        break;
                    }
                    if (draining) {
                        if (batch.size() == 0) {
                            throw new InterruptedException(); // drained: the batcher ends
                        }
                        return;
                    }
                    long wait =
                            batch.size() == 0
                                    ? Long.MAX_VALUE
                                    : queue.nanosUntilDue(
                                            batch.size(),
                                            batch.oldestArrivalNanos(),
                                            running < concurrentBatches,
                                            System.nanoTime());
                    if (wait == 0) {
                        return;
                    } else if (wait == Long.MAX_VALUE) {
                        changed.await();
                    } else {
                        changed.awaitNanos(wait);
                    }
                }
            } finally {
                lock.unlock();
            }
            batch.append(joining);
        }
    }

    /**
     * Waits until one length's queue is due and takes its records into the batch: a batch runs at
     * one length, so it is formed only once it is known which queue gives it.
     */
    private void fillFromDueLength(RunningBatch<P, OUT> batch) throws InterruptedException {
        List<ScheduledRecord<P, OUT>> joining;
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    throw new InterruptedException();
                }
                long now = System.nanoTime();
                boolean deviceFree = running < concurrentBatches;
                int due = lengthQueues.due(deviceFree, draining, now);
                if (due >= 0) {
                    joining = lengthQueues.take(due);
                    if (!joining.isEmpty()) {
                        break;
                    }
                    continue;
                }
                if (draining && measuring == 0 && lengthQueues.isEmpty()) {
                    throw new InterruptedException(); // drained: the batcher ends
                }
                long wait = lengthQueues.nanosUntilDue(deviceFree, now);
                if (wait == Long.MAX_VALUE) {
                    changed.await();
                } else {
                    changed.awaitNanos(Math.max(1, wait));
                }
            }
        } finally {
            lock.unlock();
        }
        batch.append(joining);
    }

    /** A batch (or a part retried) goes to the backend; called before {@code BatchBuffers.run}. */
    void runStarted() {
        lock.lock();
        try {
            running++;
        } finally {
            lock.unlock();
        }
    }

    /** A run ended (its device work is done): a batch held for the device may leave now. */
    void runEnded() {
        lock.lock();
        try {
            running--;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code copy} over rows {@code 0..rows} in chunks, on the copy threads and the calling
     * thread: one thread's memcpy of a batch of images (tens of MB) is slower than the GPU.
     */
    void copyInParallel(int rows, RowRangeTask copy) {
        int chunks = Math.min(rows, copyThreads + 1);
        CompletableFuture<?>[] others = new CompletableFuture<?>[chunks - 1];
        ExecutorService pool = copyPool();
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) rows * c / chunks);
            int to = (int) ((long) rows * (c + 1) / chunks);
            others[c - 1] = CompletableFuture.runAsync(() -> copy.run(from, to), pool);
        }
        copy.run(0, (int) ((long) rows / chunks));
        CompletableFuture.allOf(others).join();
    }

    /**
     * Starts {@code copy} over rows {@code 0..rows} on the copy threads, in up to one chunk per
     * thread; the future completes when every chunk is copied.
     */
    CompletableFuture<Void> copyOnCopyThreads(int rows, RowRangeTask copy) {
        int chunks = Math.min(rows, copyThreads);
        CompletableFuture<?>[] parts = new CompletableFuture<?>[chunks];
        ExecutorService pool = copyPool();
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) rows * c / chunks);
            int to = (int) ((long) rows * (c + 1) / chunks);
            parts[c] = CompletableFuture.runAsync(() -> copy.run(from, to), pool);
        }
        return CompletableFuture.allOf(parts);
    }

    /** Rows {@code from} (inclusive) to {@code to} (exclusive). */
    @FunctionalInterface
    interface RowRangeTask {
        void run(int from, int to);
    }

    /** Started on the first large batch: models with small records never start these threads. */
    private ExecutorService copyPool() {
        ExecutorService pool = copyPool;
        if (pool == null) {
            synchronized (this) {
                pool = copyPool;
                if (pool == null) {
                    AtomicInteger index = new AtomicInteger();
                    pool =
                            Executors.newFixedThreadPool(
                                    copyThreads,
                                    r -> {
                                        Thread thread =
                                                new Thread(
                                                        r,
                                                        "inference-copy-"
                                                                + name
                                                                + "-"
                                                                + index.getAndIncrement());
                                        thread.setDaemon(true);
                                        return thread;
                                    });
                    copyPool = pool;
                }
            }
        }
        return pool;
    }

    /**
     * Waits (at most 30 s) for the batcher to stop, also when the caller is interrupted (a
     * cancelled task): a batcher still copying a batch would hand it to a runner the caller closes
     * next.
     */
    private void joinBatcherUninterruptibly() {
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try {
            while (batcher.isAlive() && System.nanoTime() < deadline) {
                try {
                    batcher.join(
                            Math.max(
                                    1,
                                    TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Batches every record still waiting, without waiting for max-delay, then closes: the end of a
     * model version that another replaced, whose records submitted before must still be answered by
     * it. Waits for the batcher (at most 30 s); batches running then finish when the runner closes.
     */
    public void drainAndClose() {
        lock.lock();
        try {
            draining = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        joinBatcherUninterruptibly();
        close();
    }

    /**
     * Stops forming batches. Records still waiting stay open (in Flink they are in the async
     * operator's queue, checkpointed and replayed on restart); batches already running finish when
     * the runner closes.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        batcher.interrupt();
        joinBatcherUninterruptibly();
        ExecutorService pool;
        synchronized (this) {
            pool = copyPool;
        }
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
