package io.flinktrt.batching;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The scheduler on a real ONNX Runtime runner: when batches form, what they hold, what fails. */
@Timeout(60)
class BatchSchedulerTest {

    private static final Duration NEVER = Duration.ofHours(1);

    @Test
    void aBatchIsFormedWhenABufferSetFreesFromEverythingThatWaitedForIt() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 8, 1)) {
            runner.closeGate();
            FloatCodec codec = new FloatCodec(runner);
            try (BatchScheduler<float[], Output> scheduler =
                    scheduler(runner, codec, 8, Duration.ZERO)) {
                CompletableFuture<Output> first = scheduler.submit(sample(0));
                runner.awaitBatchesStarted(1); // the only buffer set is held at the gate
                List<CompletableFuture<Output>> waiting = new ArrayList<>();
                for (int i = 1; i <= 5; i++) {
                    waiting.add(scheduler.submit(sample(i)));
                }
                runner.openGate();
                assertThat(first.get(30, TimeUnit.SECONDS).batchRows()).isEqualTo(1);
                for (CompletableFuture<Output> next : waiting) {
                    assertThat(next.get(30, TimeUnit.SECONDS).batchRows()).isEqualTo(5);
                }
                assertThat(runner.runs()).isEqualTo(2);
            }
        }
    }

    @Test
    void aPartialBatchLeavesOnceItsOldestRecordHasWaitedMaxDelay() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 8, 2)) {
            CompletableFuture<Long> queueMicros = new CompletableFuture<>();
            BatchListener listener =
                    new BatchListener() {
                        @Override
                        public void recordDone(long queue, long total) {
                            queueMicros.complete(queue);
                        }
                    };
            try (BatchScheduler<float[], Output> scheduler =
                    new BatchScheduler<>(
                            runner,
                            new FloatCodec(runner),
                            new BatchingConfig("test", 8, Duration.ofMillis(30)),
                            listener)) {
                assertThat(scheduler.submit(sample(0)).get(30, TimeUnit.SECONDS).batchRows())
                        .isEqualTo(1);
                assertThat(queueMicros.get(30, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(30_000);
            }
        }
    }

    /**
     * Before: cut at max-delay as soon as a buffer set was free, r1 left alone and waited for the
     * device anyway.
     */
    @Test
    void aBatchDueByMaxDelayWaitsWhileTheDeviceComputesAnotherAndTakesTheRecordsArrivingMeanwhile()
            throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 8, 2)) {
            runner.computeAtOnce(1);
            runner.closeGate();
            FloatCodec codec = new FloatCodec(runner);
            try (BatchScheduler<float[], Output> scheduler =
                    scheduler(runner, codec, 8, Duration.ZERO)) {
                CompletableFuture<Output> first = scheduler.submit(sample(0));
                runner.awaitBatchesStarted(1); // the device is busy with it, held at the gate
                List<CompletableFuture<Output>> next = new ArrayList<>();
                for (int i = 1; i <= 3; i++) {
                    next.add(scheduler.submit(sample(i)));
                    codec.awaitRowsWritten(
                            i + 1); // taken into the next batch, already past its max-delay (zero)
                }
                runner.openGate();
                assertThat(first.get(30, TimeUnit.SECONDS).batchRows()).isEqualTo(1);
                for (CompletableFuture<Output> record : next) {
                    assertThat(record.get(30, TimeUnit.SECONDS).batchRows()).isEqualTo(3);
                }
                assertThat(runner.runs()).isEqualTo(2);
            }
        }
    }

    /**
     * A full batch is not held for the device: its copies and its wait for a lane overlap the
     * running batch.
     */
    @Test
    void aFullBatchLeavesWhileTheDeviceComputesAnother() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 4, 2)) {
            runner.computeAtOnce(1);
            runner.closeGate();
            try (BatchScheduler<float[], Output> scheduler =
                    scheduler(runner, new FloatCodec(runner), 4, NEVER)) {
                List<CompletableFuture<Output>> futures = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    futures.add(scheduler.submit(sample(i)));
                }
                runner.awaitBatchesStarted(
                        2); // both full batches reached the backend, the first still held
                runner.openGate();
                for (CompletableFuture<Output> future : futures) {
                    assertThat(future.get(30, TimeUnit.SECONDS).batchRows()).isEqualTo(4);
                }
            }
        }
    }

    /**
     * Before: rows were copied only once the batch was due, adding a batch of image copies to every
     * record's latency.
     */
    @Test
    void recordsAreCopiedIntoTheirRowsWhileTheirBatchWaits() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 8, 1)) {
            FloatCodec codec = new FloatCodec(runner);
            float[][] samples = samples(8);
            List<CompletableFuture<Output>> futures = new ArrayList<>();
            try (BatchScheduler<float[], Output> scheduler = scheduler(runner, codec, 8, NEVER)) {
                for (int i = 0; i < 3; i++) {
                    futures.add(scheduler.submit(samples[i]));
                }
                codec.awaitRowsWritten(
                        3); // the batch is due only when full (max-delay an hour away)
                assertThat(runner.runs()).isZero();
                for (int i = 3; i < 8; i++) {
                    futures.add(scheduler.submit(samples[i]));
                }
                for (CompletableFuture<Output> future : futures) {
                    assertThat(future.get(30, TimeUnit.SECONDS).batchRows()).isEqualTo(8);
                }
            }
            assertResultsOfTheirOwn(futures, samples, Set.of());
        }
    }

    @Test
    void aRecordCompletedBeforeItsBatchFormsIsLeftOut() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 8, 1)) {
            runner.closeGate();
            FloatCodec codec = new FloatCodec(runner);
            try (BatchScheduler<float[], Output> scheduler =
                    scheduler(runner, codec, 8, Duration.ZERO)) {
                CompletableFuture<Output> first = scheduler.submit(sample(0));
                runner.awaitBatchesStarted(1);
                float[] timedOutSample = sample(1);
                CompletableFuture<Output> timedOut = scheduler.submit(timedOutSample);
                CompletableFuture<Output> next = scheduler.submit(sample(2));
                timedOut.completeExceptionally(new Exception("timed out"));
                runner.openGate();
                first.get(30, TimeUnit.SECONDS);
                assertThat(next.get(30, TimeUnit.SECONDS).batchRows()).isEqualTo(1);
                assertThat(codec.written).doesNotContain(timedOutSample);
            }
        }
    }

    @Test
    void onlyThePoisonedRecordOfAFailingBatchFailsAndTheOthersGetTheirOwnResults()
            throws Exception {
        float[][] samples = samples(16);
        samples[5][0] = ControlledRunner.POISON;
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 16, 1)) {
            List<CompletableFuture<Output>> futures = runAll(runner, samples);

            assertFailedAlone(futures.get(5));
            assertResultsOfTheirOwn(futures, samples, Set.of(5));
            // 16 fails, then 8 + 8, 4 + 4, 2 + 2, 1 + 1: one failing half per level
            assertThat(runner.runs()).isEqualTo(1 + 2 * 4);
        }
    }

    @Test
    void twoPoisonedRecordsInOneBatchEachFailAlone() throws Exception {
        float[][] samples = samples(16);
        samples[2][0] = ControlledRunner.POISON;
        samples[13][0] = ControlledRunner.POISON;
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 16, 1)) {
            List<CompletableFuture<Output>> futures = runAll(runner, samples);

            assertFailedAlone(futures.get(2));
            assertFailedAlone(futures.get(13));
            assertResultsOfTheirOwn(futures, samples, Set.of(2, 13));
        }
    }

    @Test
    void everyOtherRecordPoisonedStillLeavesTheValidOnesTheirResults() throws Exception {
        float[][] samples = samples(16);
        Set<Integer> poisoned = new HashSet<>();
        for (int i = 1; i < 16; i += 2) {
            samples[i][0] = ControlledRunner.POISON;
            poisoned.add(i);
        }
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 16, 1)) {
            List<CompletableFuture<Output>> futures = runAll(runner, samples);

            poisoned.forEach(i -> assertFailedAlone(futures.get(i)));
            assertResultsOfTheirOwn(futures, samples, poisoned);
        }
    }

    @Test
    void aBackendThatFailsEveryRecordIsRetriedOnlyAlongTheSplitTree() throws Exception {
        float[][] samples = samples(16);
        for (float[] sample : samples) {
            sample[0] = ControlledRunner.POISON;
        }
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 16, 1)) {
            List<CompletableFuture<Output>> futures = runAll(runner, samples);

            for (CompletableFuture<Output> future : futures) {
                assertThatThrownBy(future::get).hasCauseInstanceOf(RowFailedException.class);
            }
            // every range of the split tree runs once: 16 + 2x8 + 4x4 + 8x2 + 16x1 rows, 31 runs,
            // no more
            assertThat(runner.runs()).isEqualTo(2 * 16 - 1);
        }
    }

    /**
     * 16 images are 9.6 MB: above the parallel-copy threshold. Waiting while the only buffer set is
     * busy, they are taken at once when it frees, and copied by several threads.
     */
    @Test
    void recordsTakenTogetherAreCopiedByTheSchedulersOwnThreadsIntoTheRightRows() throws Exception {
        int rows = 16;
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.IMAGE_MEAN), rows, 1)) {
            runner.closeGate();
            FloatCodec codec = new FloatCodec(runner);
            int sampleFloats = runner.signature().inputs().get(0).sampleBytes() / Float.BYTES;
            assertThat((long) rows * sampleFloats * Float.BYTES)
                    .isGreaterThan(BatchScheduler.PARALLEL_COPY_BYTES);
            List<CompletableFuture<Output>> futures = new ArrayList<>();
            try (BatchScheduler<float[], Output> scheduler =
                    scheduler(runner, codec, rows, NEVER)) {
                for (int i = 0; i < 2 * rows; i++) {
                    float[] image = new float[sampleFloats];
                    Arrays.fill(image, i + 1);
                    futures.add(scheduler.submit(image));
                    if (i == rows - 1) {
                        runner.awaitBatchesStarted(1); // the first batch holds the only buffer set
                    }
                }
                runner.openGate();
                for (int i = 0; i < 2 * rows; i++) {
                    Output output = futures.get(i).get(30, TimeUnit.SECONDS);
                    assertThat(output.batchRows()).isEqualTo(rows);
                    for (float channelMean : output.values()) {
                        assertThat(channelMean).as("row %d", i).isCloseTo(i + 1, within(1e-4f));
                    }
                }
            }
            assertThat(codec.threads).anyMatch(name -> name.startsWith("inference-copy-test"));
            assertThat(codec.threads).noneMatch(name -> name.contains("ForkJoinPool"));
        }
    }

    /**
     * Images joining one at a time are copied on the copy threads, not the batcher's: one thread
     * copying every image as it comes falls behind a fast stream (ResNet-50 at 18,000 images/s is
     * 11 GB/s of copies), and every record then waits for it.
     */
    @Test
    void largeRowsJoiningOneByOneAreCopiedOnTheCopyThreadsIntoTheRightRows() throws Exception {
        int rows = 4;
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.IMAGE_MEAN), rows, 1)) {
            FloatCodec codec = new FloatCodec(runner);
            int sampleFloats = runner.signature().inputs().get(0).sampleBytes() / Float.BYTES;
            assertThat((long) sampleFloats * Float.BYTES)
                    .isGreaterThanOrEqualTo(BatchScheduler.COPY_THREAD_BYTES);
            List<CompletableFuture<Output>> futures = new ArrayList<>();
            try (BatchScheduler<float[], Output> scheduler =
                    scheduler(runner, codec, rows, NEVER)) {
                for (int i = 0; i < rows; i++) {
                    float[] image = new float[sampleFloats];
                    Arrays.fill(image, i + 1);
                    futures.add(scheduler.submit(image));
                    while (codec.written.size() <= i) { // joined (and copied) before the next comes
                        Thread.onSpinWait();
                    }
                }
                for (int i = 0; i < rows; i++) {
                    Output output = futures.get(i).get(30, TimeUnit.SECONDS);
                    assertThat(output.batchRows()).isEqualTo(rows);
                    for (float channelMean : output.values()) {
                        assertThat(channelMean).as("row %d", i).isCloseTo(i + 1, within(1e-4f));
                    }
                }
            }
            assertThat(codec.threads)
                    .isNotEmpty()
                    .allMatch(name -> name.startsWith("inference-copy-test"));
        }
    }

    /**
     * A batch abandoned at close while an image is still being copied into it on a copy thread
     * gives its buffers back only once that copy ended: the caller frees the buffers next.
     */
    @Test
    void closeWaitsForCopiesStillRunningIntoAnAbandonedBatch() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.IMAGE_MEAN), 4, 1)) {
            StalledCopyCodec codec = new StalledCopyCodec(runner);
            int sampleFloats = runner.signature().inputs().get(0).sampleBytes() / Float.BYTES;
            BatchScheduler<float[], Output> scheduler = scheduler(runner, codec, 4, NEVER);
            scheduler.submit(new float[sampleFloats]);
            assertThat(codec.copying.await(30, TimeUnit.SECONDS)).isTrue();
            Thread closer = new Thread(scheduler::close);
            closer.start();
            assertThat(waitingOrEnded(closer))
                    .as("close waits while the copy runs")
                    .isEqualTo(Thread.State.TIMED_WAITING);
            codec.finishCopy.countDown();
            closer.join(30_000);
            assertThat(closer.isAlive()).isFalse();
        }
    }

    @Test
    void aMaxBatchAboveTheRunnersIsRefused() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 4, 1)) {
            assertThatThrownBy(() -> scheduler(runner, new FloatCodec(runner), 8, Duration.ZERO))
                    .hasMessageContaining("above the runner's 4");
        }
    }

    private static List<CompletableFuture<Output>> runAll(
            ControlledRunner runner, float[][] samples) throws Exception {
        List<CompletableFuture<Output>> futures = new ArrayList<>();
        try (BatchScheduler<float[], Output> scheduler =
                scheduler(runner, new FloatCodec(runner), samples.length, NEVER)) {
            for (float[] sample : samples) {
                futures.add(scheduler.submit(sample));
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                    .handle((v, e) -> null)
                    .get(30, TimeUnit.SECONDS);
        }
        return futures;
    }

    private static void assertFailedAlone(CompletableFuture<Output> future) {
        assertThatThrownBy(future::get)
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(RowFailedException.class)
                .hasMessageContaining("alone")
                .hasMessageContaining("poisoned row in a batch of 1");
    }

    /** Each record not poisoned has the outputs it gets in a batch of its own. */
    private static void assertResultsOfTheirOwn(
            List<CompletableFuture<Output>> futures, float[][] samples, Set<Integer> poisoned)
            throws Exception {
        try (ControlledRunner alone = new ControlledRunner(TestModels.path(TestModels.MLP), 1, 1);
                BatchScheduler<float[], Output> scheduler =
                        scheduler(alone, new FloatCodec(alone), 1, Duration.ZERO)) {
            for (int i = 0; i < samples.length; i++) {
                if (!poisoned.contains(i)) {
                    float[] expected =
                            scheduler.submit(samples[i]).get(30, TimeUnit.SECONDS).values();
                    assertThat(futures.get(i).get().values())
                            .as("record %d", i)
                            .containsExactly(expected, within(1e-6f));
                }
            }
        }
    }

    /**
     * Flink interrupts a cancelled task's thread, which then closes the scheduler and the runner:
     * the close must still wait for a batcher that is copying a batch, or that batch reaches a
     * runner the caller is about to close; and the caller's interrupt must survive the wait.
     */
    @Test
    void closeFromAnInterruptedThreadWaitsForTheBatcherAndKeepsTheInterrupt() throws Exception {
        try (ControlledRunner runner =
                new ControlledRunner(TestModels.path(TestModels.MLP), 8, 1)) {
            StalledCopyCodec codec = new StalledCopyCodec(runner);
            BatchScheduler<float[], Output> scheduler = scheduler(runner, codec, 8, Duration.ZERO);
            CompletableFuture<Output> result = scheduler.submit(sample(0));
            assertThat(codec.copying.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Boolean> interruptedAfterClose = new CompletableFuture<>();
            Thread closer =
                    new Thread(
                            () -> {
                                Thread.currentThread().interrupt();
                                scheduler.close();
                                interruptedAfterClose.complete(
                                        Thread.currentThread().isInterrupted());
                            });
            closer.start();
            assertThat(waitingOrEnded(closer))
                    .as("the closer waits for the batcher's copy")
                    .isEqualTo(Thread.State.TIMED_WAITING);
            assertThat(interruptedAfterClose).isNotDone();
            codec.finishCopy.countDown();
            assertThat(interruptedAfterClose.get(30, TimeUnit.SECONDS))
                    .as("interrupt kept")
                    .isTrue();
            // a batch not started when the scheduler closed is not run: its records stay open, and
            // Flink replays them from its checkpoint
            assertThat(result).isNotDone();
        }
    }

    private static BatchScheduler<float[], Output> scheduler(
            ModelRunner runner, FloatCodec codec, int maxBatch, Duration maxDelay) {
        return new BatchScheduler<>(
                runner, codec, new BatchingConfig("test", maxBatch, maxDelay), BatchListener.NONE);
    }

    static float[] sample(int seed) {
        float[] x = new float[16];
        Random random = new Random(seed);
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) random.nextGaussian();
        }
        return x;
    }

    private static float[][] samples(int n) {
        float[][] samples = new float[n][];
        for (int i = 0; i < n; i++) {
            samples[i] = sample(i);
        }
        return samples;
    }

    /** One output's values and the rows of the batch it came from. */
    record Output(float[] values, int batchRows) {}

    /**
     * Single float input, single float output; notes which records it wrote and on which threads.
     */
    /** The thread's state once it waits with a timeout (a join) or has ended. */
    private static Thread.State waitingOrEnded(Thread thread) {
        Thread.State state = thread.getState();
        while (state != Thread.State.TIMED_WAITING && state != Thread.State.TERMINATED) {
            Thread.onSpinWait();
            state = thread.getState();
        }
        return state;
    }

    /** Holds every row copy until {@link #finishCopy}; a copy (a memcpy) ignores interrupts. */
    static class StalledCopyCodec extends FloatCodec {
        final CountDownLatch copying = new CountDownLatch(1);
        final CountDownLatch finishCopy = new CountDownLatch(1);

        StalledCopyCodec(ModelRunner runner) {
            super(runner);
        }

        @Override
        public void putRow(float[] record, BatchBuffers buffers, int row) {
            copying.countDown();
            boolean interrupted = false;
            while (finishCopy.getCount() > 0) {
                try {
                    finishCopy.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            super.putRow(record, buffers, row);
        }
    }

    static class FloatCodec implements RowCodec<float[], Output> {
        final Set<float[]> written = ConcurrentHashMap.newKeySet();
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        private final Semaphore rowsWritten = new Semaphore(0);
        private final int inputBytes;
        private final int outputFloats;

        FloatCodec(ModelRunner runner) {
            inputBytes = runner.signature().inputs().get(0).sampleBytes();
            outputFloats = runner.signature().outputs().get(0).sampleBytes() / Float.BYTES;
        }

        @Override
        public void putRow(float[] record, BatchBuffers buffers, int row) {
            written.add(record);
            threads.add(Thread.currentThread().getName());
            ByteBuffer input = buffers.input(0);
            for (int k = 0; k < record.length; k++) {
                input.putFloat(row * inputBytes + k * Float.BYTES, record[k]);
            }
            rowsWritten.release();
        }

        /** Waits until {@code rows} rows in all were written since this codec was made. */
        void awaitRowsWritten(int rows) throws InterruptedException {
            rowsWritten.acquire(rows);
            rowsWritten.release(rows);
        }

        @Override
        public Output readRow(float[] record, BatchBuffers buffers, int row, BatchInfo batch) {
            float[] values = new float[outputFloats];
            for (int k = 0; k < values.length; k++) {
                values[k] = buffers.output(0).getFloat((row * outputFloats + k) * Float.BYTES);
            }
            return new Output(values, batch.run().rows());
        }
    }
}
