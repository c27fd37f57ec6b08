package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ComputeOnlyLoop;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.SharedRegistry;
import io.flinktrt.backend.TensorSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A TensorRT engine opened for one task slot: {@code buffersInFlight} {@link Lane}s, each with its
 * own execution context, stream and buffers, on the engine shared by the slots on the same GPU.
 * Everything is allocated and every batch bucket is warmed up in the constructor; {@link #close}
 * frees it all in reverse order.
 */
final class TensorRtRunner implements ModelRunner, ComputeOnlyLoop {

    private static final Logger LOG = LoggerFactory.getLogger(TensorRtRunner.class);

    private final SharedRegistry<Engine.Key, Engine>.Lease lease;
    private final Engine engine;
    private final ModelSignature signature;
    private final List<Lane> lanes = new ArrayList<>();
    private final BlockingQueue<Lane> free;
    private boolean closed;

    TensorRtRunner(SharedRegistry<Engine.Key, Engine>.Lease lease, ModelConfig config, String modelName,
                   String checksum) throws BackendException {
        this.lease = lease;
        this.engine = lease.get();
        int largest = BatchProfiles.largest(engine.profiles);
        if (config.maxBatchSize() > largest) {
            throw new BackendException("Max batch size " + config.maxBatchSize() + " is above the plan's largest profile ("
                    + largest + "); lower it or rebuild with build-engine --batch-buckets/--shapes up to "
                    + config.maxBatchSize() + ".");
        }
        int maxBatch = config.maxBatchSize() > 0 ? config.maxBatchSize() : largest;
        BatchProfiles profiles = new BatchProfiles(engine.profiles, maxBatch);
        int sets = Math.max(1, config.buffersInFlight());
        this.free = new ArrayBlockingQueue<>(sets);
        try {
            Cuda.setDevice(engine.device);
            List<TensorSpec> inputs = new ArrayList<>();
            for (Engine.Io io : engine.inputs) {
                inputs.add(new TensorSpec(io.name(), io.dtype(), engine.inputSampleShape(io)));
            }
            long inputBytes = inputs.stream().mapToLong(spec -> (long) spec.sampleBytes() * maxBatch).sum();
            GpuMemoryBudget.check(modelName, engine.device, sets, engine.engine.getDeviceMemorySizeV2(), inputBytes,
                    GpuProbe.freeMemory(engine.device));
            List<TensorSpec> outputs = new ArrayList<>(); // filled below: lane 0's context infers dynamic output shapes
            for (int i = 0; i < sets; i++) {
                lanes.add(new Lane(engine.engine, engine.device, i, modelName, profiles, inputs, outputs, free::add));
            }
            outputs.addAll(outputSpecs(lanes.get(0), inputs, maxBatch));
            this.signature = new ModelSignature(modelName, checksum, inputs, outputs, maxBatch);
            for (Lane lane : lanes) {
                lane.allocate(maxBatch);
            }
            warmUp(profiles);
            free.addAll(lanes);
        } catch (BackendException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Output sample shapes: the engine's, or where it leaves them dynamic, what a context infers. */
    private List<TensorSpec> outputSpecs(Lane lane, List<TensorSpec> inputs, int maxBatch) throws BackendException {
        List<TensorSpec> specs = new ArrayList<>();
        BatchProfiles.Choice choice = new BatchProfiles(engine.profiles, maxBatch).choose(1);
        for (Engine.Io io : engine.outputs) {
            long[] shape = io.shape();
            if (Arrays.stream(shape, 1, shape.length).anyMatch(d -> d < 0)) {
                shape = lane.outputShape(choice.profile(), choice.executedRows(), inputs.toArray(TensorSpec[]::new), io.name());
            }
            specs.add(new TensorSpec(io.name(), io.dtype(), Arrays.copyOfRange(shape, 1, shape.length)));
        }
        return specs;
    }

    /** Runs every bucket on every lane once, so the first records do not pay for lazy initialization. */
    private void warmUp(BatchProfiles profiles) throws BackendException {
        long start = System.nanoTime();
        for (int rows : profiles.warmUpBatches()) {
            for (Lane lane : lanes) {
                lane.warmUp(rows);
            }
        }
        LOG.info("TensorRT {}: {} lane(s) warmed up at batches {} in {} ms", signature.modelName(), lanes.size(),
                profiles.warmUpBatches(), (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public String backendName() {
        return TensorRtBackend.NAME;
    }

    @Override
    public BatchBuffers acquire() throws InterruptedException {
        return free.take();
    }

    /**
     * Every lane runs batches of {@code rows} back to back on its own stream, on what is already on
     * the device (trtexec --noDataTransfers). Takes all lanes for the duration, so call it with none
     * acquired.
     */
    @Override
    public double computeOnlyRecordsPerSecond(int rows, Duration duration) throws BackendException {
        List<Lane> taken = new ArrayList<>();
        try {
            for (int i = 0; i < lanes.size(); i++) {
                taken.add(free.take());
            }
            long start = System.nanoTime();
            long deadline = start + duration.toNanos();
            List<CompletableFuture<Long>> runs = taken.stream().map(lane -> lane.computeOnly(rows, deadline)).toList();
            long batches = 0;
            for (CompletableFuture<Long> run : runs) {
                batches += run.get();
            }
            return batches * rows / ((System.nanoTime() - start) / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException("Interrupted while measuring", e);
        } catch (ExecutionException e) {
            throw new BackendException("Compute-only loop failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            free.addAll(taken);
        }
    }

    /**
     * Waits for the batches in flight, then frees in reverse order of creation: per lane its buffers,
     * event and stream; then the contexts; then (when this was the last runner on it) the engine and
     * the runtime.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (Lane lane : lanes) {
                lane.stopThread();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Cuda.setDevice(engine.device);
        } catch (BackendException e) {
            LOG.warn("Closing TensorRT runner: {}", e.getMessage());
        }
        lanes.forEach(Lane::freeBuffers);
        lanes.forEach(Lane::deleteContext);
        lanes.clear();
        try {
            lease.close();
        } catch (Exception e) {
            LOG.warn("Closing the TensorRT engine: {}", e.toString());
        }
    }
}
