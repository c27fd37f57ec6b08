package io.flinktrt.batching;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One batch on its buffer set, from the copies in to the records completed and the buffers
 * released. While it is filled ({@link #append}), each record is copied into its row as it joins,
 * so the copies of large rows (images) happen while the batch waits to be due, not after. Once
 * started, records run as a range of the batch, copied to the buffers' first rows.
 *
 * <p>When the backend fails a range, it is split in halves and each half run on its own, first half
 * first (its rows are already in place), until a failing range is one record, which then fails
 * alone. A batch holding one record the backend cannot run costs {@code 1 + 2 log2(n)} runs instead
 * of failing {@code n} records; every failing record is isolated, however many there are (a stream
 * of out-of-vocabulary ids mixed with valid ones). The runs are bounded by the split tree itself:
 * at most {@code 2n - 1} failing runs, reached only when every record fails (a backend failing
 * whatever it runs), each of them on a smaller range.
 */
final class RunningBatch<P, OUT> {

    private static final Logger LOG = LoggerFactory.getLogger(RunningBatch.class);

    /** Only the first failure a JVM logs carries its stack trace; later ones are one line. */
    private static final AtomicBoolean TRACE_LOGGED = new AtomicBoolean();

    private final BatchScheduler<P, OUT> scheduler;
    private final List<ScheduledRecord<P, OUT>> records = new ArrayList<>();
    private final BatchBuffers buffers;
    private final long rowBytes;

    /** Copies of appended rows still running on the copy threads; the run waits for them. */
    private final List<CompletableFuture<Void>> pendingCopies = new ArrayList<>();

    private long fillNanos;
    private long startNanos;

    /** The range of {@link #records} in the buffers' first rows. */
    private int loadedFrom;

    private int loadedTo;
    // Only once a run failed:
    private ArrayDeque<int[]> rangesLeft;
    private Throwable firstError;
    private int failedRuns;
    private int failedRecords;
    private int answeredRecords;

    /**
     * An empty batch on {@code buffers}; the batcher fills it with {@link #append} and then starts
     * it.
     */
    RunningBatch(BatchScheduler<P, OUT> scheduler, BatchBuffers buffers, long rowBytes) {
        this.scheduler = scheduler;
        this.buffers = buffers;
        this.rowBytes = rowBytes;
    }

    int size() {
        return records.size();
    }

    /** When its oldest record arrived; only once it holds one. */
    long oldestArrivalNanos() {
        return records.get(0).arrivalNanos;
    }

    /**
     * Adds records and copies them into the next rows; on the batcher thread, before {@link
     * #start}.
     */
    void append(List<ScheduledRecord<P, OUT>> joining) {
        long begin = System.nanoTime();
        int first = records.size();
        records.addAll(joining);
        if (rowBytes * joining.size() < BatchScheduler.COPY_THREAD_BYTES
                && !scheduler.codec.putRowComputes()) {
            copyIn(first, records.size(), first);
        } else {
            // Large rows (images) go to the copy threads: one thread copying each image as it comes
            // falls behind the stream (ResNet-50 at 18,000/s is 11 GB/s) and every record waits.
            // So do rows that take work to write (text to tokenize: about 10,000 texts/s a core).
            List<ScheduledRecord<P, OUT>> rows = List.copyOf(joining);
            pendingCopies.add(
                    scheduler.copyOnCopyThreads(
                            rows.size(), (from, to) -> putRows(rows, from, to, first)));
        }
        fillNanos += System.nanoTime() - begin;
    }

    /**
     * Gives the buffers back without running (the scheduler closes), once the copies into them have
     * ended: the runner may free the buffers next. Its records stay open (Flink replays them).
     */
    void abandon() {
        pendingCopies.forEach(copy -> copy.handle((done, error) -> null).join());
        buffers.release();
    }

    /** Starts the run of every record appended, once its copy is done; on the batcher thread. */
    void start() {
        pendingCopies.forEach(CompletableFuture::join);
        pendingCopies.clear();
        startNanos = System.nanoTime();
        loadedFrom = 0;
        loadedTo = records.size();
        scheduler.listener.batchFilled(fillNanos / 1000);
        run(0, records.size());
    }

    /** Copies records {@code from..to} to the first rows, for a retry of that range. */
    private void load(int from, int to) {
        copyIn(from, to, 0);
        loadedFrom = from;
        loadedTo = to;
    }

    /**
     * Copies records {@code from..to} into rows from {@code firstRow} on; large ranges on several
     * threads.
     */
    private void copyIn(int from, int to, int firstRow) {
        int rows = to - from;
        int shift = firstRow - from;
        if (rows * rowBytes < BatchScheduler.PARALLEL_COPY_BYTES) {
            putRows(records, from, to, shift);
        } else {
            scheduler.copyInParallel(
                    rows, (first, end) -> putRows(records, from + first, from + end, shift));
        }
    }

    /** Record {@code i} of {@code from..to} of {@code list} into row {@code i + shift}. */
    private void putRows(List<ScheduledRecord<P, OUT>> list, int from, int to, int shift) {
        for (int i = from; i < to; i++) {
            ScheduledRecord<P, OUT> record = list.get(i);
            try {
                scheduler.codec.putRow(record.record, buffers, i + shift);
            } catch (RuntimeException e) { // its row is computed anyway, and skipped when read
                record.fail(
                        new RowFailedException(
                                "Could not write this record into the batch: " + e, e));
            }
        }
    }

    private void run(int from, int to) {
        scheduler.runStarted();
        try {
            long tokens = 0;
            int longest = 0;
            if (scheduler.sequence.varies()) {
                for (int i = from; i < to; i++) {
                    int rowTokens = Math.min(records.get(i).tokens, scheduler.sequence.longest());
                    tokens += rowTokens;
                    longest = Math.max(longest, rowTokens);
                }
            }
            long rowTokens = tokens;
            (scheduler.sequence.varies() ? buffers.run(to - from, longest) : buffers.run(to - from))
                    .thenApply(run -> rowTokens > 0 ? run.withTokens(rowTokens) : run)
                    .whenComplete(
                            (run, error) -> {
                                scheduler.runEnded();
                                if (error == null) {
                                    answer(from, run);
                                    next();
                                } else {
                                    failed(from, to, error);
                                }
                            });
        } catch (RuntimeException e) {
            scheduler.runEnded();
            failed(from, to, e);
        }
    }

    /** Reads each open record's outputs and completes it; on the backend's thread. */
    private void answer(int from, BatchRun run) {
        long done = System.nanoTime();
        BatchListener listener = scheduler.listener;
        listener.batchDone(run);
        BatchInfo info = new BatchInfo(run, startNanos, done);
        for (int row = 0; row < run.rows(); row++) {
            ScheduledRecord<P, OUT> record = records.get(from + row);
            if (record.isDone()) { // timed out meanwhile
                continue;
            }
            OUT output;
            try {
                output = scheduler.codec.readRow(record.record, buffers, row, info);
            } catch (RuntimeException e) {
                record.fail(
                        new RowFailedException("Could not read this record's outputs: " + e, e));
                continue;
            }
            if (record.complete(output)) {
                answeredRecords++;
                listener.recordDone(
                        (startNanos - record.arrivalNanos) / 1000,
                        (done - record.arrivalNanos) / 1000);
            }
        }
        listener.batchAnswered((System.nanoTime() - done) / 1000);
    }

    private void failed(int from, int to, Throwable error) {
        if (firstError == null) {
            firstError = error;
            rangesLeft = new ArrayDeque<>();
        }
        failedRuns++;
        int rows = to - from;
        if (rows == 1) {
            String message =
                    records.size() > 1
                            ? "The backend failed on this record alone (its batch of "
                                    + records.size()
                                    + " failed): "
                            : "The backend failed on this record: ";
            if (records.get(from)
                    .fail(new RowFailedException(message + rootMessage(error), error))) {
                failedRecords++;
            }
        } else {
            int middle = (from + to) >>> 1;
            rangesLeft.push(new int[] {middle, to});
            rangesLeft.push(new int[] {from, middle});
        }
        next();
    }

    /** Runs the next range left to retry, or ends the batch. */
    private void next() {
        int[] range = rangesLeft == null ? null : rangesLeft.poll();
        if (range == null) {
            finish();
            return;
        }
        if (range[0] != loadedFrom || range[1] > loadedTo) {
            load(range[0], range[1]);
        }
        run(range[0], range[1]);
    }

    private void finish() {
        buffers.release();
        if (firstError != null) {
            String line =
                    String.format(
                            "%s: the backend failed a batch of %d records (%s); retried in halves"
                                    + " (%d failed run(s)): %d record(s) failed, %d got results",
                            scheduler.name,
                            records.size(),
                            rootMessage(firstError),
                            failedRuns,
                            failedRecords,
                            answeredRecords);
            if (TRACE_LOGGED.compareAndSet(false, true)) {
                LOG.warn(line, firstError);
            } else {
                LOG.warn(line);
            }
        }
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause != cause.getCause()) {
            cause = cause.getCause();
        }
        return cause instanceof BackendException ? cause.getMessage() : cause.toString();
    }
}
