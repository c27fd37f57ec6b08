package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.TensorSpec;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * One set of a runner's buffers with everything needed to run it: an execution context, a
 * non-blocking stream, a blocking-sync completion event, pinned host buffers (what {@link #input}
 * and {@link #output} wrap) and device buffers, all allocated once. Its own thread does the CUDA
 * work of a batch and waits on the event without spinning, so while one lane computes, the caller
 * fills another, and the copies of one lane overlap the kernels of the other.
 */
final class Lane implements BatchBuffers {

    private final int device;
    private final BatchProfiles profiles;
    private final List<TensorSpec> inputSpecs;
    private final List<TensorSpec> outputSpecs;
    private final Consumer<Lane> onRelease;
    final IExecutionContext context;
    final CUstream_st stream = new CUstream_st();
    private final CUevent_st done = new CUevent_st();
    private final List<Pointer> hostInputs = new ArrayList<>();
    private final List<Pointer> hostOutputs = new ArrayList<>();
    private final List<Pointer> deviceInputs = new ArrayList<>();
    private final List<Pointer> deviceOutputs = new ArrayList<>();
    private final List<ByteBuffer> inputs = new ArrayList<>();
    private final List<ByteBuffer> outputs = new ArrayList<>();
    private final ExecutorService thread;
    private boolean streamCreated;
    private boolean eventCreated;
    /** What the context is set to now, so profile and shapes are set only when they change. */
    private int currentProfile = -1;
    private int currentRows = -1;

    /** Creates the context, stream and event; {@link #allocate} adds the buffers once shapes are known. */
    Lane(ICudaEngine engine, int device, int index, String modelName, BatchProfiles profiles,
         List<TensorSpec> inputSpecs, List<TensorSpec> outputSpecs, Consumer<Lane> onRelease) throws BackendException {
        this.device = device;
        this.profiles = profiles;
        this.inputSpecs = inputSpecs;
        this.outputSpecs = outputSpecs;
        this.onRelease = onRelease;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tensorrt-" + modelName + "-gpu" + device + "-lane" + index);
            t.setDaemon(true);
            return t;
        });
        IExecutionContext created = engine.createExecutionContext(
                org.bytedeco.tensorrt.global.nvinfer.ExecutionContextAllocationStrategy.kSTATIC);
        this.context = created == null || created.isNull() ? null : created;
        if (context == null) {
            throw new BackendException("TensorRT could not create an execution context (out of GPU memory?); see the"
                    + " TensorRT errors logged above.");
        }
        try {
            Cuda.check(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
            streamCreated = true;
            Cuda.check(cudart.cudaEventCreateWithFlags(done, cudart.cudaEventDisableTiming | cudart.cudaEventBlockingSync),
                    "cudaEventCreateWithFlags");
            eventCreated = true;
        } catch (BackendException e) {
            freeBuffers();
            deleteContext();
            throw e;
        }
    }

    /** Pinned host and device buffers for {@code maxBatch} rows of every input and output. */
    void allocate(int maxBatch) throws BackendException {
        for (TensorSpec spec : inputSpecs) {
            allocate(spec, maxBatch, hostInputs, deviceInputs, inputs);
        }
        for (TensorSpec spec : outputSpecs) {
            allocate(spec, maxBatch, hostOutputs, deviceOutputs, outputs);
        }
    }

    private static void allocate(TensorSpec spec, int maxBatch, List<Pointer> host, List<Pointer> deviceBuffers,
                                 List<ByteBuffer> views) throws BackendException {
        long bytes = (long) maxBatch * spec.sampleBytes();
        Pointer h = new Pointer();
        Cuda.check(cudart.cudaMallocHost(h, bytes), "cudaMallocHost(" + bytes + ") for " + spec.name());
        host.add(h);
        BytePointer hostBytes = new BytePointer(h).capacity(bytes);
        hostBytes.zero(); // padding rows then hold zeros or earlier real rows, never garbage indices
        views.add(hostBytes.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
        Pointer d = new Pointer();
        Cuda.check(cudart.cudaMalloc(d, bytes), "cudaMalloc(" + bytes + ") for " + spec.name());
        deviceBuffers.add(d);
    }

    @Override
    public ByteBuffer input(int index) {
        return inputs.get(index);
    }

    @Override
    public ByteBuffer output(int index) {
        return outputs.get(index);
    }

    @Override
    public CompletableFuture<BatchRun> run(int rows) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return execute(rows);
            } catch (BackendException | RuntimeException e) {
                throw new CompletionException(e instanceof BackendException ? e
                        : new BackendException("TensorRT batch of " + rows + " rows failed: " + e, e));
            }
        }, thread);
    }

    @Override
    public void release() {
        onRelease.accept(this);
    }

    /** Copies in, runs, copies out and waits for the event; on the lane's thread. */
    private BatchRun execute(int rows) throws BackendException {
        BatchProfiles.Choice choice = profiles.choose(rows);
        long start = System.nanoTime();
        prepare(choice);
        for (int i = 0; i < inputSpecs.size(); i++) {
            Cuda.check(cudart.cudaMemcpyAsync(deviceInputs.get(i), hostInputs.get(i),
                    (long) choice.executedRows() * inputSpecs.get(i).sampleBytes(), cudart.cudaMemcpyHostToDevice, stream),
                    "cudaMemcpyAsync to the GPU");
        }
        enqueue(choice);
        for (int i = 0; i < outputSpecs.size(); i++) { // only the real rows come back
            Cuda.check(cudart.cudaMemcpyAsync(hostOutputs.get(i), deviceOutputs.get(i),
                    (long) rows * outputSpecs.get(i).sampleBytes(), cudart.cudaMemcpyDeviceToHost, stream),
                    "cudaMemcpyAsync from the GPU");
        }
        waitForStream();
        return new BatchRun(rows, choice.executedRows(), System.nanoTime() - start);
    }

    /**
     * Runs batches of {@code rows} on what is already on the device, without copies, until
     * {@code deadline} (System.nanoTime); returns how many ran. On the lane's thread.
     */
    CompletableFuture<Long> computeOnly(int rows, long deadline) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                BatchProfiles.Choice choice = profiles.choose(rows);
                prepare(choice);
                long batches = 0;
                while (System.nanoTime() < deadline) {
                    enqueue(choice);
                    waitForStream();
                    batches++;
                }
                return batches;
            } catch (BackendException e) {
                throw new CompletionException(e);
            }
        }, thread);
    }

    /** Sets the device, and the profile and input shapes where they changed. */
    private void prepare(BatchProfiles.Choice choice) throws BackendException {
        Cuda.setDevice(device);
        if (choice.profile() != currentProfile) {
            if (!context.setOptimizationProfileAsync(choice.profile(), stream)) {
                throw new BackendException("TensorRT refused optimization profile " + choice.profile());
            }
            bindAddresses();
            currentProfile = choice.profile();
            currentRows = -1;
        }
        if (choice.executedRows() != currentRows) {
            setShapes(choice.executedRows());
            currentRows = choice.executedRows();
        }
    }

    private void enqueue(BatchProfiles.Choice choice) throws BackendException {
        if (!context.enqueueV3(stream)) {
            throw new BackendException("TensorRT enqueueV3 failed for a batch of " + choice.executedRows()
                    + " rows; see the TensorRT errors logged above.");
        }
    }

    /** Records the event after the stream's work and sleeps until it fires (blocking-sync event: no spinning). */
    private void waitForStream() throws BackendException {
        Cuda.check(cudart.cudaEventRecord(done, stream), "cudaEventRecord");
        Cuda.check(cudart.cudaEventSynchronize(done), "the batch on the GPU");
    }

    /** Every input and output must be bound before an enqueue: a missing one fails only inside enqueueV3. */
    private void bindAddresses() throws BackendException {
        for (int i = 0; i < inputSpecs.size(); i++) {
            bind(inputSpecs.get(i).name(), deviceInputs.get(i));
        }
        for (int i = 0; i < outputSpecs.size(); i++) {
            bind(outputSpecs.get(i).name(), deviceOutputs.get(i));
        }
    }

    private void bind(String name, Pointer address) throws BackendException {
        if (!context.setTensorAddress(name, address)) {
            throw new BackendException("TensorRT refused the address of tensor " + name);
        }
    }

    private void setShapes(int rows) throws BackendException {
        for (TensorSpec spec : inputSpecs) {
            try (Dims64 dims = EngineIo.toDims(spec.batchShape(rows))) {
                if (!context.setInputShape(spec.name(), dims)) {
                    throw new BackendException("TensorRT refused shape " + ShapeRange.format(spec.batchShape(rows))
                            + " for input " + spec.name() + " in profile " + currentProfile);
                }
            }
        }
        for (TensorSpec spec : outputSpecs) {
            long[] shape = EngineIo.dims(context.getTensorShape(spec.name()));
            if (shape.length == 0 || shape[0] != rows) {
                throw new BackendException("Output " + spec.name() + " has shape " + ShapeRange.format(shape) + " for a batch"
                        + " of " + rows + "; every output's first dimension must be the batch.");
            }
        }
    }

    /** Runs {@code rows} rows now, on the calling thread; used while opening, before the lane is handed out. */
    BatchRun warmUp(int rows) throws BackendException {
        return execute(rows);
    }

    /** Sets the context to {@code rows} rows of {@code profile} and reads an output's shape (to size the outputs). */
    long[] outputShape(int profile, int rows, TensorSpec[] inputs, String output) throws BackendException {
        if (!context.setOptimizationProfileAsync(profile, stream)) {
            throw new BackendException("TensorRT refused optimization profile " + profile);
        }
        for (TensorSpec spec : inputs) {
            try (Dims64 dims = EngineIo.toDims(spec.batchShape(rows))) {
                context.setInputShape(spec.name(), dims);
            }
        }
        currentProfile = -1; // the first batch binds the addresses and sets its own shapes
        currentRows = -1;
        return EngineIo.dims(context.getTensorShape(output));
    }

    /** Stops the thread after the batch in flight; the caller then frees with {@link #freeBuffers}. */
    void stopThread() throws InterruptedException {
        thread.shutdown();
        thread.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
    }

    /** Synchronizes, then frees buffers, event and stream (the context goes after all lanes, see the runner). */
    void freeBuffers() {
        if (streamCreated) {
            Cuda.checkQuietly(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        }
        hostInputs.forEach(p -> Cuda.checkQuietly(cudart.cudaFreeHost(p), "cudaFreeHost"));
        hostOutputs.forEach(p -> Cuda.checkQuietly(cudart.cudaFreeHost(p), "cudaFreeHost"));
        deviceInputs.forEach(p -> Cuda.checkQuietly(cudart.cudaFree(p), "cudaFree"));
        deviceOutputs.forEach(p -> Cuda.checkQuietly(cudart.cudaFree(p), "cudaFree"));
        hostInputs.clear();
        hostOutputs.clear();
        deviceInputs.clear();
        deviceOutputs.clear();
        if (eventCreated) {
            Cuda.checkQuietly(cudart.cudaEventDestroy(done), "cudaEventDestroy");
            eventCreated = false;
        }
        if (streamCreated) {
            Cuda.checkQuietly(cudart.cudaStreamDestroy(stream), "cudaStreamDestroy");
            streamCreated = false;
        }
    }

    void deleteContext() {
        NativeDelete.delete(context, IExecutionContext::new);
    }
}
