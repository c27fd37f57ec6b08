package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.ModelSignature.SequenceAxis;
import io.flinktrt.backend.SharedRegistry;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.gpu.Cuda;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;

import org.apache.flink.annotation.Internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TensorRT engine opened for one task slot, on the engine shared by the slots on the same GPU.
 * Two kinds of resources, kept apart (as Triton keeps the engine apart from its instances): {@link
 * HostBuffers} sets ({@code buffersInFlight}: batches being filled, on the GPU, or being read) and
 * {@link Lane}s ({@code tensorrt.contexts}: contexts, stream, device buffers), which a batch holds
 * only for its copies and kernels. Everything is allocated, every batch bucket warmed up and its
 * CUDA graph captured in the constructor; {@link #close} frees it all in reverse order.
 */
@Internal
public final class TensorRtRunner implements ModelRunner {

    /** Reported with every result; TensorRtBackend.NAME. */
    public static final String BACKEND_NAME = "tensorrt";

    private static final Logger LOG = LoggerFactory.getLogger(TensorRtRunner.class);

    private final SharedRegistry<Engine.Key, Engine>.Lease lease;
    private final Engine engine;
    private final ModelSignature signature;
    private final List<Lane> lanes = new ArrayList<>();
    private final List<HostBuffers> hostSets = new ArrayList<>();
    private final BlockingQueue<Lane> idleLanes;
    private final BlockingQueue<HostBuffers> freeHostSets;
    private final ExecutorService gpuThreads;

    /** The lengths batches run at, for a plan with a sequence axis. */
    private final SequenceAxis sequence;

    /** See {@link #concurrentBatches}; measured in the warm-up. */
    private int batchesAtOnce = 1;

    private boolean closed;

    /**
     * @param contexts lanes to create (at most one per buffer set)
     * @param cudaGraphs whether to capture each bucket as a CUDA graph
     * @param imageDecoding where JPEGs of an image input are decoded (CPU where nvJPEG did not
     *     load)
     */
    public TensorRtRunner(
            SharedRegistry<Engine.Key, Engine>.Lease lease,
            ModelConfig config,
            int contexts,
            boolean cudaGraphs,
            ImageDecoding imageDecoding,
            String modelName,
            String checksum)
            throws BackendException {
        this.lease = lease;
        this.engine = lease.get();
        int largest = BatchProfiles.largest(engine.profiles);
        if (config.maxBatchSize() > largest) {
            throw new BackendException(
                    "Max batch size "
                            + config.maxBatchSize()
                            + " is above the plan's largest profile ("
                            + largest
                            + "); lower it or rebuild the plan with batch buckets or shape ranges up to "
                            + config.maxBatchSize()
                            + ".");
        }
        int maxBatch = config.maxBatchSize() > 0 ? config.maxBatchSize() : largest;
        BatchProfiles profiles = new BatchProfiles(engine.profiles, maxBatch);
        this.sequence = sequenceAxis(engine, config.sequenceLengths(), modelName);
        int sets = Math.max(1, config.buffersInFlight());
        this.idleLanes = new ArrayBlockingQueue<>(contexts, true);
        this.freeHostSets = new ArrayBlockingQueue<>(sets);
        AtomicInteger threadIndex = new AtomicInteger();
        this.gpuThreads =
                Executors.newFixedThreadPool(
                        sets,
                        r -> {
                            Thread t =
                                    new Thread(
                                            r,
                                            "tensorrt-"
                                                    + modelName
                                                    + "-gpu"
                                                    + engine.device
                                                    + "-"
                                                    + threadIndex.getAndIncrement());
                            t.setDaemon(true);
                            return t;
                        });
        try {
            Cuda.setDevice(engine.device);
            List<TensorSpec> inputs = sequence.atLongest(engine.inputs);
            long inputBytes =
                    inputs.stream().mapToLong(spec -> (long) spec.sampleBytes() * maxBatch).sum();
            long jpegBytes =
                    imageDecoding == ImageDecoding.CPU
                            ? 0
                            : inputs.stream()
                                    .mapToLong(spec -> DeviceJpegDecoder.leastBytes(spec, maxBatch))
                                    .sum();
            GpuMemoryBudget.check(
                    modelName,
                    engine.device,
                    contexts,
                    engine.engine.getDeviceMemorySizeV2(),
                    inputBytes,
                    jpegBytes,
                    GpuProbe.freeMemory(engine.device));
            List<TensorSpec> outputs =
                    new ArrayList<>(); // filled below: lane 0 infers dynamic output shapes
            for (int i = 0; i < contexts; i++) {
                lanes.add(
                        new Lane(
                                engine.engine,
                                engine.device,
                                modelName + " lane " + i,
                                profiles,
                                inputs,
                                outputs,
                                cudaGraphs,
                                sequence,
                                imageDecoding));
            }
            outputs.addAll(outputSpecs(lanes.get(0), profiles));
            this.signature =
                    new ModelSignature(modelName, checksum, inputs, outputs, maxBatch, sequence);
            for (Lane lane : lanes) {
                lane.allocate(maxBatch);
            }
            boolean decodeImages = jpegDecodersStarted(imageDecoding, inputs, modelName);
            for (int i = 0; i < sets; i++) {
                HostBuffers host = new HostBuffers(this::submit, freeHostSets::add);
                hostSets.add(host);
                host.allocate(inputs, outputs, maxBatch, decodeImages);
            }
            warmUp(profiles);
            idleLanes.addAll(lanes);
            freeHostSets.addAll(hostSets);
        } catch (BackendException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Whether JPEGs go to the GPU: a model with an image input, image-decode not cpu, and every
     * lane's decoder started; one that cannot start leaves the images to the CPU, said in the log.
     */
    private boolean jpegDecodersStarted(
            ImageDecoding imageDecoding, List<TensorSpec> inputs, String modelName) {
        if (imageDecoding == ImageDecoding.CPU
                || inputs.stream().allMatch(spec -> DeviceJpegDecoder.leastBytes(spec, 1) == 0)) {
            return false;
        }
        try {
            for (Lane lane : lanes) {
                lane.openJpegDecoder();
            }
            return true;
        } catch (BackendException e) {
            LOG.warn(
                    "TensorRT {}: the GPU JPEG decoder did not start ({}); images are decoded on the"
                            + " CPU",
                    modelName,
                    e.getMessage());
            return false;
        }
    }

    /**
     * Output sample shapes: the engine's, or where it leaves them dynamic, what a context infers.
     */
    private List<TensorSpec> outputSpecs(Lane lane, BatchProfiles profiles)
            throws BackendException {
        List<TensorSpec> specs = new ArrayList<>();
        BatchProfiles.Choice choice = profiles.choose(1, longest());
        for (TensorSpec output : engine.outputs) {
            if (Arrays.stream(output.sampleShape()).anyMatch(d -> d < 0)) {
                long[] inferred = lane.outputShape(choice, output.name());
                output =
                        new TensorSpec(
                                output.name(),
                                output.dtype(),
                                Arrays.copyOfRange(inferred, 1, inferred.length));
            }
            specs.add(output);
        }
        return specs;
    }

    /**
     * Runs every bucket on every lane and captures its graph, so the first records pay for no lazy
     * set-up; then times each bucket, so that batches can be split where that computes faster.
     */
    private void warmUp(BatchProfiles profiles) throws BackendException {
        long start = System.nanoTime();
        List<Integer> lengths = sequence.varies() ? sequence.lengths() : List.of(0);
        for (int rows : profiles.warmUpBatches()) {
            for (int length : lengths) {
                for (Lane lane : lanes) {
                    lane.warmUp(hostSets.get(0), rows, length);
                }
            }
        }
        // timed at the longest length: a split that pays there pays at every length
        TreeMap<Integer, Double> costs = new TreeMap<>();
        for (int rows : profiles.warmUpBatches()) {
            costs.put(rows, lanes.get(0).time(rows, longest()));
        }
        profiles.useCosts(costs);
        int largest = costs.lastKey();
        int runs = 3;
        long withCopies = 0;
        for (int i = 0; i < runs; i++) {
            withCopies += lanes.get(0).execute(hostSets.get(0), largest, longest()).computeNanos();
        }
        double copyMs = Math.max(0, withCopies / 1e6 / runs - costs.get(largest));
        batchesAtOnce = batchesAtOnce(lanes.size(), copyMs, costs.get(largest));
        LOG.info(
                "TensorRT {}: {} context(s), {} host buffer set(s); warmed up at batches {} in {} ms;"
                        + " CUDA graphs for batches {}; ms per bucket {}; copies of batch {}: {} ms, so {} batch(es)"
                        + " on the device at once",
                signature.modelName(),
                lanes.size(),
                hostSets.size(),
                profiles.warmUpBatches(),
                (System.nanoTime() - start) / 1_000_000,
                graphBatches(),
                costs.entrySet().stream()
                        .map(e -> String.format("%d: %.3f", e.getKey(), e.getValue()))
                        .toList(),
                largest,
                String.format("%.3f", copyMs),
                batchesAtOnce);
    }

    /**
     * Batches the device works on at once: one computing, plus as many as their copies keep the
     * copy engines busy beside it (a batch's copies take {@code copyMs}, its kernels {@code
     * computeMs}); at most one per lane. Kernels of two lanes do not run faster side by side (about
     * 10% at batch 128 on the H200), so a model with small rows (token ids) has 1, one with images
     * 2.
     */
    static int batchesAtOnce(int lanes, double copyMs, double computeMs) {
        return (int) Math.max(1, Math.min(lanes, 1 + Math.round(copyMs / computeMs)));
    }

    /**
     * Runs a filled host set on the next idle lane. There is a thread per host set, so the caller
     * reading one batch's results on its thread never keeps another batch from a lane.
     */
    private CompletableFuture<BatchRun> submit(HostBuffers host, int rows, int tokens) {
        int length = sequence.varies() ? sequence.bucketFor(tokens > 0 ? tokens : longest()) : 0;
        return CompletableFuture.supplyAsync(
                () -> {
                    Lane lane;
                    try {
                        lane = idleLanes.take(); // fair queue: batches get lanes in the order they
                        // were submitted
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new CompletionException(
                                new BackendException(
                                        "Interrupted while waiting for a TensorRT lane", e));
                    }
                    try {
                        return lane.execute(host, rows, length);
                    } catch (BackendException | RuntimeException e) {
                        throw new CompletionException(
                                e instanceof BackendException
                                        ? e
                                        : new BackendException(
                                                "TensorRT batch of " + rows + " rows failed: " + e,
                                                e));
                    } finally {
                        idleLanes.add(lane);
                    }
                },
                gpuThreads);
    }

    /**
     * Batch sizes (x lengths) with a CUDA graph (on the first lane; all lanes capture the same).
     */
    public List<String> graphBatches() {
        return lanes.get(0).graphBatches();
    }

    /** The longest sequence length; 0 without a sequence axis. */
    private int longest() {
        return sequence.varies() ? sequence.longest() : 0;
    }

    /**
     * The lengths batches run at: the configured ones, each taken by some profile, else each
     * profile's longest; {@link SequenceAxis#NONE} for a plan without a sequence axis.
     */
    private static SequenceAxis sequenceAxis(
            Engine engine, List<Integer> configured, String modelName) throws BackendException {
        if (engine.sequenceLengths.isEmpty()) {
            if (!configured.isEmpty()) {
                throw new BackendException(
                        "Sequence lengths "
                                + configured
                                + " are set, but the plan of "
                                + modelName
                                + " has no sequence axis (its inputs' shapes are fixed past the batch).");
            }
            return SequenceAxis.NONE;
        }
        for (int length : configured) {
            if (engine.profiles.stream().noneMatch(p -> p.takes(length))) {
                throw new BackendException(
                        "Sequence length "
                                + length
                                + " is outside every optimization profile of "
                                + modelName
                                + " (profiles: "
                                + engine.profiles
                                + "); rebuild the plan with --sequence-lengths covering it.");
            }
        }
        return new SequenceAxis(
                configured.isEmpty() ? engine.sequenceLengths : configured, engine.sequenceTensors);
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public String backendName() {
        return BACKEND_NAME;
    }

    @Override
    public BatchBuffers acquire() throws InterruptedException {
        return freeHostSets.take();
    }

    /** See {@link #batchesAtOnce(int, double, double)}: the lanes share one GPU. */
    @Override
    public int concurrentBatches() {
        return batchesAtOnce;
    }

    /**
     * Waits for the batches in flight, then frees: the lanes (each waits for its stream, then frees
     * graphs, contexts, device buffers and the stream), the pinned host sets; then, when this was
     * the last runner on it, the engine and the runtime.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        gpuThreads.shutdown();
        // Also when the closing thread is interrupted (Flink interrupts a cancelled task):
        // freeing a lane while its batch still runs would free memory the GPU is writing.
        boolean interrupted = awaitBatchesUninterruptibly(Duration.ofMinutes(1));
        try {
            Cuda.setDevice(engine.device);
        } catch (BackendException e) {
            LOG.warn("Closing TensorRT runner: {}", e.getMessage());
        }
        lanes.forEach(Lane::close); // synchronizes each stream before freeing
        lanes.clear();
        hostSets.forEach(HostBuffers::free);
        hostSets.clear();
        try {
            lease.close();
        } catch (Exception e) {
            LOG.warn("Closing the TensorRT engine: {}", e.toString());
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits for the GPU threads to finish their batches; returns whether the caller was interrupted
     * meanwhile. Not Flink's ExecutorUtils.gracefulShutdown: interrupted, it stops waiting at once.
     */
    private boolean awaitBatchesUninterruptibly(Duration limit) {
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try {
                if (!gpuThreads.awaitTermination(
                        Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    LOG.warn(
                            "Closing TensorRT runner: a batch still runs after {}; freeing anyway",
                            limit);
                }
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }
}
