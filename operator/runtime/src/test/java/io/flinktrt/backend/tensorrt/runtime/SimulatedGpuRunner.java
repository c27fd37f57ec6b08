package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A GPU simulated in real time, shaped like {@link TensorRtRunner}: buffer sets (direct memory the
 * scheduler really copies rows into), lanes taken from a fair idle queue by a thread per buffer
 * set, and the batch plan of the real {@link BatchProfiles} from measured bucket costs. The device
 * is three FIFO timelines shared by all lanes: host-to-device copies, kernels, device-to-host
 * copies (an H200 has separate copy engines). Kernels of different lanes do not run in parallel; a
 * kernel queued right behind another one runs {@code overlapFactor} of its time (the small gain two
 * contexts show on the H200: compute-only 18,113/s at batch 128 against 7.86 ms alone).
 *
 * <p>For the latency simulation only ({@code SimulatedGpuLatencyTest}); it computes nothing.
 */
public final class SimulatedGpuRunner implements ModelRunner {

    /**
     * What the simulated GPU costs.
     *
     * @param bucketMs kernel time per bucket (executed rows), one lane alone, as the runner's
     *     warm-up logs it
     * @param overlapFactor share of a kernel's time when it queues right behind another lane's
     * @param copyBytesPerSecond pinned-memory copy rate, each direction
     * @param slowdown every device time is multiplied by it (to simulate large rows on a small
     *     host)
     */
    public record Gpu(
            Map<Integer, Double> bucketMs,
            double overlapFactor,
            double copyBytesPerSecond,
            double slowdown) {}

    private final ModelSignature signature;
    private final Gpu gpu;
    private final BatchProfiles profiles;
    private final int lanes;
    private final boolean reportsDevice;
    private final BlockingQueue<Integer> idleLanes;
    private final BlockingQueue<Sets> freeSets;
    private final ExecutorService gpuThreads;
    private final Timeline toDevice = new Timeline();
    private final Timeline kernels = new Timeline();
    private final Timeline toHost = new Timeline();

    public SimulatedGpuRunner(
            ModelSignature signature, Gpu gpu, int lanes, int bufferSets, boolean reportsDevice) {
        this.signature = signature;
        this.gpu = gpu;
        this.lanes = lanes;
        this.reportsDevice = reportsDevice;
        int maxBatch = signature.maxBatchSize();
        List<BatchProfiles.Profile> buckets = new ArrayList<>();
        int previous = 0;
        for (int bucket : gpu.bucketMs().keySet().stream().sorted().toList()) {
            buckets.add(new BatchProfiles.Profile(buckets.size(), previous + 1, bucket, bucket));
            previous = bucket;
        }
        this.profiles = new BatchProfiles(buckets, maxBatch);
        profiles.useCosts(gpu.bucketMs());
        this.idleLanes = new ArrayBlockingQueue<>(lanes, true);
        for (int i = 0; i < lanes; i++) {
            idleLanes.add(i);
        }
        this.freeSets = new ArrayBlockingQueue<>(bufferSets);
        for (int i = 0; i < bufferSets; i++) {
            freeSets.add(new Sets(maxBatch));
        }
        this.gpuThreads =
                Executors.newFixedThreadPool(
                        bufferSets,
                        r -> {
                            Thread thread = new Thread(r, "simulated-gpu");
                            thread.setDaemon(true);
                            return thread;
                        });
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public String backendName() {
        return "simulated-gpu";
    }

    @Override
    public BatchBuffers acquire() throws InterruptedException {
        return freeSets.take();
    }

    /**
     * As TensorRtRunner decides it, from the largest bucket's copies and kernels; or, with {@code
     * reportsDevice} false, no bound (the scheduler cuts batches as it did before).
     */
    @Override
    public int concurrentBatches() {
        if (!reportsDevice) {
            return Integer.MAX_VALUE;
        }
        int largest = signature.maxBatchSize();
        long bytes =
                signature.inputs().stream().mapToLong(TensorSpec::sampleBytes).sum()
                        + signature.outputs().stream().mapToLong(TensorSpec::sampleBytes).sum();
        return TensorRtRunner.batchesAtOnce(
                lanes,
                copyNanos(largest * bytes) / 1e6 / gpu.slowdown(),
                gpu.bucketMs().get(largest));
    }

    /**
     * Records per second of batches of {@code rows} on every lane back to back, with copies, for
     * {@code seconds}.
     */
    public double rawRecordsPerSecond(int rows, double seconds) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        AtomicLong batches = new AtomicLong();
        List<Thread> loops = new ArrayList<>();
        for (int i = freeSets.size(); i > 0; i--) {
            BatchBuffers buffers = acquire();
            Thread loop =
                    new Thread(
                            () -> {
                                while (System.nanoTime() < deadline) {
                                    buffers.run(rows).join();
                                    batches.incrementAndGet();
                                }
                                buffers.release();
                            },
                            "simulated-raw-loop");
            loop.start();
            loops.add(loop);
        }
        for (Thread loop : loops) {
            loop.join();
        }
        return batches.get() * rows / ((System.nanoTime() - start) / 1e9);
    }

    private BatchRun execute(int rows) {
        long start = System.nanoTime();
        int executed = 0;
        long inBytes = signature.inputs().stream().mapToLong(TensorSpec::sampleBytes).sum();
        long outBytes = signature.outputs().stream().mapToLong(TensorSpec::sampleBytes).sum();
        for (BatchProfiles.Chunk chunk : profiles.plan(rows, 0)) {
            toDevice.occupy(copyNanos(chunk.rows() * inBytes), 1);
            kernels.occupy(
                    nanos(gpu.bucketMs().get(chunk.choice().executedRows())), gpu.overlapFactor());
            toHost.occupy(copyNanos(chunk.rows() * outBytes), 1);
            executed += chunk.choice().executedRows();
        }
        return new BatchRun(rows, executed, System.nanoTime() - start);
    }

    private long copyNanos(long bytes) {
        return (long) (bytes / gpu.copyBytesPerSecond() * 1e9 * gpu.slowdown());
    }

    private long nanos(double ms) {
        return (long) (ms * 1e6 * gpu.slowdown());
    }

    @Override
    public void close() {
        gpuThreads.shutdown();
        try {
            gpuThreads.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One device engine: work queues in order; a caller waits (parks) until its own work is done.
     */
    private static final class Timeline {
        private long freeAt;

        void occupy(long nanos, double factorWhenQueued) {
            long end;
            synchronized (this) {
                long now = System.nanoTime();
                long start = Math.max(now, freeAt);
                end = start + (start > now ? (long) (nanos * factorWhenQueued) : nanos);
                freeAt = end;
            }
            for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
                LockSupport.parkNanos(left);
            }
        }
    }

    /**
     * One buffer set: direct memory for the max batch, run on a lane by a GPU thread, like
     * HostBuffers.
     */
    private final class Sets implements BatchBuffers {
        private final List<ByteBuffer> inputs = new ArrayList<>();
        private final List<ByteBuffer> outputs = new ArrayList<>();

        Sets(int maxBatch) {
            signature.inputs().forEach(spec -> inputs.add(direct(spec, maxBatch)));
            signature.outputs().forEach(spec -> outputs.add(direct(spec, maxBatch)));
        }

        private static ByteBuffer direct(TensorSpec spec, int maxBatch) {
            return ByteBuffer.allocateDirect(maxBatch * spec.sampleBytes())
                    .order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public ByteBuffer input(int index) {
            return inputs.get(index);
        }

        @Override
        public CompletableFuture<BatchRun> run(int rows) {
            return CompletableFuture.supplyAsync(
                    () -> {
                        Integer lane;
                        try {
                            lane = idleLanes.take();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new CompletionException(e);
                        }
                        try {
                            return execute(rows);
                        } finally {
                            idleLanes.add(lane);
                        }
                    },
                    gpuThreads);
        }

        @Override
        public ByteBuffer output(int index) {
            return outputs.get(index);
        }

        @Override
        public void release() {
            freeSets.add(this);
        }
    }
}
