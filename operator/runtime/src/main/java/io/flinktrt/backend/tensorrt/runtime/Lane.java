package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelSignature.SequenceAxis;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.gpu.Cuda;
import io.flinktrt.backend.tensorrt.gpu.NativeDelete;
import io.flinktrt.backend.tensorrt.plan.EngineIo;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer.ExecutionContextAllocationStrategy;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What runs one batch at a time on the GPU: a non-blocking stream, a blocking-sync completion
 * event, device buffers for the max batch, and one execution context per optimization profile in
 * use (per profile and sequence length, for a model with a sequence axis), all sharing the lane's
 * activation memory (they never run at once: the lane's stream serializes them). A context per
 * profile keeps its shapes fixed, so the CUDA graph captured for it stays valid. Used by one thread
 * at a time: whoever took it from the runner's idle lanes.
 */
final class Lane implements AutoCloseable {

    private final ICudaEngine engine;
    private final int device;
    private final String name;
    private final BatchProfiles profiles;
    private final List<TensorSpec> inputSpecs;
    private final List<TensorSpec> outputSpecs;
    private final boolean cudaGraphs;
    private final SequenceAxis sequence;
    private final ImageDecoding imageDecoding;
    final CUstream_st stream = new CUstream_st();
    private final CUevent_st done = new CUevent_st();
    private final Pointer scratch = new Pointer();
    private final long scratchBytes;
    private final List<Pointer> deviceInputs = new ArrayList<>();
    private final List<Pointer> deviceOutputs = new ArrayList<>();
    private final Map<Integer, ProfileContext> contexts = new TreeMap<>();
    private DeviceJpegDecoder jpegDecoder;
    private boolean streamCreated;
    private boolean eventCreated;

    /**
     * A context bound to one profile, with the shape it is set to and the graph captured at that
     * shape.
     */
    private static final class ProfileContext {
        final IExecutionContext context;
        final int profile;
        final int length;
        boolean bound;
        int rows = -1;
        CudaGraph graph;

        ProfileContext(IExecutionContext context, int profile, int length) {
            this.context = context;
            this.profile = profile;
            this.length = length;
        }
    }

    /**
     * Creates the stream, event and activation memory; {@link #allocate} adds the I/O buffers once
     * shapes are known.
     */
    Lane(
            ICudaEngine engine,
            int device,
            String name,
            BatchProfiles profiles,
            List<TensorSpec> inputSpecs,
            List<TensorSpec> outputSpecs,
            boolean cudaGraphs,
            SequenceAxis sequence,
            ImageDecoding imageDecoding)
            throws BackendException {
        this.sequence = sequence;
        this.imageDecoding = imageDecoding;
        this.engine = engine;
        this.device = device;
        this.name = name;
        this.profiles = profiles;
        this.inputSpecs = inputSpecs;
        this.outputSpecs = outputSpecs;
        this.cudaGraphs = cudaGraphs;
        this.scratchBytes = engine.getDeviceMemorySizeV2();
        try {
            Cuda.check(
                    cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking),
                    "cudaStreamCreateWithFlags");
            streamCreated = true;
            Cuda.check(
                    cudart.cudaEventCreateWithFlags(
                            done, cudart.cudaEventDisableTiming | cudart.cudaEventBlockingSync),
                    "cudaEventCreateWithFlags");
            eventCreated = true;
            if (scratchBytes > 0) {
                Cuda.check(
                        cudart.cudaMalloc(scratch, scratchBytes),
                        "cudaMalloc(" + scratchBytes + ") for activations");
            }
        } catch (BackendException e) {
            close();
            throw e;
        }
    }

    /** Device buffers for {@code maxBatch} rows of every input and output. */
    void allocate(int maxBatch) throws BackendException {
        for (TensorSpec spec : inputSpecs) {
            deviceBuffer(spec, maxBatch, deviceInputs);
        }
        for (TensorSpec spec : outputSpecs) {
            deviceBuffer(spec, maxBatch, deviceOutputs);
        }
    }

    /**
     * Zeroed: rows past a batch's real ones are computed too (padding), and must never hold garbage
     * indices.
     */
    private static void deviceBuffer(TensorSpec spec, int maxBatch, List<Pointer> buffers)
            throws BackendException {
        long bytes = (long) maxBatch * spec.sampleBytes();
        Pointer d = new Pointer();
        Cuda.check(cudart.cudaMalloc(d, bytes), "cudaMalloc(" + bytes + ") for " + spec.name());
        buffers.add(d); // from here on close() frees it
        Cuda.check(cudart.cudaMemset(d, 0, bytes), "cudaMemset(" + bytes + ") for " + spec.name());
    }

    /**
     * Copies {@code host}'s inputs in, runs, copies the real rows' outputs out and waits; on the
     * calling thread. A batch planned as several chunks runs them back to back on the stream, each
     * from the start of the device buffers.
     */
    BatchRun execute(HostBuffers host, int rows, int length) throws BackendException {
        long start = System.nanoTime();
        int executed = 0;
        int offset = 0;
        for (BatchProfiles.Chunk chunk : profiles.plan(rows, length)) {
            ProfileContext pc = prepare(chunk.choice());
            for (int i = 0;
                    i < inputSpecs.size();
                    i++) { // only the real rows: padding rows keep earlier rows or zeros
                EncodedRows jpegs = host.encodedRows(i);
                if (jpegs != null && jpegs.any(offset, chunk.rows())) {
                    copyImages(host, i, jpegs, offset, chunk.rows());
                    continue;
                }
                TensorSpec spec = inputSpecs.get(i);
                copy(
                        deviceInputs.get(i),
                        sequence.rowBytes(spec, length),
                        host.inputBytes.get(i).position((long) offset * spec.sampleBytes()),
                        spec.sampleBytes(),
                        chunk.rows(),
                        cudart.cudaMemcpyHostToDevice);
            }
            launch(pc, chunk.choice());
            for (int i = 0; i < outputSpecs.size(); i++) {
                TensorSpec spec = outputSpecs.get(i);
                copy(
                        host.outputBytes.get(i).position((long) offset * spec.sampleBytes()),
                        spec.sampleBytes(),
                        deviceOutputs.get(i),
                        sequence.rowBytes(spec, length),
                        chunk.rows(),
                        cudart.cudaMemcpyDeviceToHost);
            }
            offset += chunk.rows();
            executed += chunk.choice().executedRows();
        }
        waitForStream();
        return new BatchRun(rows, executed, System.nanoTime() - start, 0, length);
    }

    /**
     * An image input with JPEGs among its rows: the rows written as pixels are copied in (run by
     * run), the JPEGs decoded on the GPU into theirs.
     */
    private void copyImages(HostBuffers host, int input, EncodedRows jpegs, int offset, int rows)
            throws BackendException {
        long rowBytes = inputSpecs.get(input).sampleBytes();
        int run = -1;
        for (int r = offset; r <= offset + rows; r++) {
            boolean pixels = r < offset + rows && jpegs.jpeg(r) == null;
            if (pixels && run < 0) {
                run = r;
            } else if (!pixels && run >= 0) {
                Cuda.check(
                        cudart.cudaMemcpyAsync(
                                new BytePointer(deviceInputs.get(input))
                                        .position((run - offset) * rowBytes),
                                host.inputBytes.get(input).position(run * rowBytes),
                                (r - run) * rowBytes,
                                cudart.cudaMemcpyHostToDevice,
                                stream),
                        "cudaMemcpyAsync");
                run = -1;
            }
        }
        jpegDecoder.decode(jpegs, offset, rows, deviceInputs.get(input));
    }

    /**
     * Starts the lane's JPEG decoder (nvJPEG's handles, NPP's stream context) before the first
     * batch, so that one that cannot start is known at open and the first images pay no set-up.
     */
    void openJpegDecoder() throws BackendException {
        Cuda.setDevice(device);
        jpegDecoder =
                new DeviceJpegDecoder(stream, device, imageDecoding == ImageDecoding.HARDWARE);
    }

    /**
     * Copies {@code rows} rows on the stream; where the two sides' rows differ in length (a batch
     * shorter than the longest sequence: the host keeps rows at the longest, the engine takes them
     * packed), as a 2D copy of each row's shorter part.
     */
    private void copy(Pointer to, long toPitch, Pointer from, long fromPitch, int rows, int kind)
            throws BackendException {
        if (toPitch == fromPitch) {
            Cuda.check(
                    cudart.cudaMemcpyAsync(to, from, rows * toPitch, kind, stream),
                    "cudaMemcpyAsync");
        } else {
            long width = Math.min(toPitch, fromPitch);
            Cuda.check(
                    cudart.cudaMemcpy2DAsync(
                            to, toPitch, from, fromPitch, width, rows, kind, stream),
                    "cudaMemcpy2DAsync");
        }
    }

    /** Mean time of one run of {@code rows} (a bucket) without copies, in ms, over a few runs. */
    double time(int rows, int length) throws BackendException {
        BatchProfiles.Choice choice = profiles.choose(rows, length);
        ProfileContext pc = prepare(choice);
        int runs = 5;
        long start = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            launch(pc, choice);
        }
        waitForStream();
        return (System.nanoTime() - start) / 1e6 / runs;
    }

    /**
     * Warm-up of one batch size: a plain run (TensorRT finishes its lazy set-up in the first
     * enqueue after a shape change, which must not be captured), then the graph capture and a run
     * of it.
     */
    void warmUp(HostBuffers host, int rows, int length) throws BackendException {
        execute(host, rows, length);
        if (cudaGraphs) {
            BatchProfiles.Choice choice = profiles.choose(rows, length);
            ProfileContext pc = prepare(choice);
            if (pc.graph == null) {
                pc.graph =
                        CudaGraph.capture(
                                stream,
                                () -> pc.context.enqueueV3(stream),
                                name
                                        + " profile "
                                        + pc.profile
                                        + " batch "
                                        + choice.executedRows()
                                        + (length > 0 ? " length " + length : ""));
                if (pc.graph != null) {
                    execute(host, rows, length);
                }
            }
        }
    }

    /** Batches (x lengths) with a captured graph, for the log. */
    List<String> graphBatches() {
        return contexts.values().stream()
                .filter(pc -> pc.graph != null)
                .map(pc -> pc.rows + (pc.length > 0 ? "x" + pc.length : ""))
                .toList();
    }

    private void launch(ProfileContext pc, BatchProfiles.Choice choice) throws BackendException {
        if (pc.graph != null) {
            pc.graph.launch(stream);
        } else if (!pc.context.enqueueV3(stream)) {
            throw new BackendException(
                    "TensorRT enqueueV3 failed for a batch of "
                            + choice.executedRows()
                            + " rows; see the TensorRT errors logged above.");
        }
    }

    /** Sets the device; the choice's profile context, created, bound and shaped where needed. */
    private ProfileContext prepare(BatchProfiles.Choice choice) throws BackendException {
        Cuda.setDevice(device);
        ProfileContext pc = context(choice.profile(), choice.length());
        if (!pc.bound) {
            bindAddresses(pc.context);
            pc.bound = true;
        }
        if (choice.executedRows() != pc.rows) {
            if (pc.graph != null) {
                // captured at another shape: replaying it would compute the wrong batch
                pc.graph.close();
                pc.graph = null;
            }
            setShapes(pc, choice.executedRows());
        }
        return pc;
    }

    private ProfileContext context(int profile, int length) throws BackendException {
        int key = profile * 1_000_000 + length;
        ProfileContext existing = contexts.get(key);
        if (existing != null) {
            return existing;
        }
        IExecutionContext created =
                engine.createExecutionContext(ExecutionContextAllocationStrategy.kUSER_MANAGED);
        if (created == null || created.isNull()) {
            throw new BackendException(
                    "TensorRT could not create an execution context (out of GPU memory?); see the"
                            + " TensorRT errors logged above.");
        }
        ProfileContext pc = new ProfileContext(created, profile, length);
        contexts.put(key, pc); // from here on close() deletes it
        created.setDeviceMemoryV2(scratch, scratchBytes);
        if (!created.setOptimizationProfileAsync(profile, stream)) {
            throw new BackendException("TensorRT refused optimization profile " + profile);
        }
        return pc;
    }

    /**
     * Every input and output must be bound before an enqueue: a missing one fails only inside
     * enqueueV3.
     */
    private void bindAddresses(IExecutionContext context) throws BackendException {
        for (int i = 0; i < inputSpecs.size(); i++) {
            bind(context, inputSpecs.get(i).name(), deviceInputs.get(i));
        }
        for (int i = 0; i < outputSpecs.size(); i++) {
            bind(context, outputSpecs.get(i).name(), deviceOutputs.get(i));
        }
    }

    private static void bind(IExecutionContext context, String name, Pointer address)
            throws BackendException {
        if (!context.setTensorAddress(name, address)) {
            throw new BackendException("TensorRT refused the address of tensor " + name);
        }
    }

    private void setShapes(ProfileContext pc, int rows) throws BackendException {
        setInputShapes(pc, rows);
        for (TensorSpec spec : outputSpecs) {
            long[] shape = EngineIo.dims(pc.context.getTensorShape(spec.name()));
            if (shape.length == 0 || shape[0] != rows) {
                throw new BackendException(
                        "Output "
                                + spec.name()
                                + " has shape "
                                + ShapeRange.format(shape)
                                + " for a batch"
                                + " of "
                                + rows
                                + "; every output's first dimension must be the batch.");
            }
        }
    }

    private void setInputShapes(ProfileContext pc, int rows) throws BackendException {
        for (TensorSpec spec : inputSpecs) {
            long[] shape = spec.batchShape(rows);
            if (sequence.has(spec)) {
                shape[1] = pc.length;
            }
            try (Dims64 dims = EngineIo.toDims(shape)) {
                if (!pc.context.setInputShape(spec.name(), dims)) {
                    throw new BackendException(
                            "TensorRT refused shape "
                                    + ShapeRange.format(shape)
                                    + " for input "
                                    + spec.name()
                                    + " in profile "
                                    + pc.profile);
                }
            }
        }
        pc.rows = rows;
    }

    /**
     * The shape of {@code output} for {@code choice} (to size outputs the engine leaves dynamic);
     * before {@link #allocate}.
     */
    long[] outputShape(BatchProfiles.Choice choice, String output) throws BackendException {
        Cuda.setDevice(device);
        ProfileContext pc = context(choice.profile(), choice.length());
        setInputShapes(pc, choice.executedRows());
        return EngineIo.dims(pc.context.getTensorShape(output));
    }

    /**
     * Waits for the stream, then frees in reverse order: graphs, contexts, the JPEG decoder,
     * buffers, activations, event, stream.
     */
    @Override
    public void close() {
        if (streamCreated) {
            Cuda.checkQuietly(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        }
        for (ProfileContext pc : contexts.values()) {
            if (pc.graph != null) {
                pc.graph.close();
            }
            NativeDelete.delete(pc.context, IExecutionContext::new);
        }
        contexts.clear();
        if (jpegDecoder != null) {
            jpegDecoder.close();
            jpegDecoder = null;
        }
        deviceInputs.forEach(p -> Cuda.checkQuietly(cudart.cudaFree(p), "cudaFree"));
        deviceOutputs.forEach(p -> Cuda.checkQuietly(cudart.cudaFree(p), "cudaFree"));
        deviceInputs.clear();
        deviceOutputs.clear();
        if (!scratch.isNull()) {
            Cuda.checkQuietly(cudart.cudaFree(scratch), "cudaFree");
            scratch.setNull();
        }
        if (eventCreated) {
            Cuda.checkQuietly(cudart.cudaEventDestroy(done), "cudaEventDestroy");
            eventCreated = false;
        }
        if (streamCreated) {
            Cuda.checkQuietly(cudart.cudaStreamDestroy(stream), "cudaStreamDestroy");
            streamCreated = false;
        }
    }

    /**
     * Records the event after the stream's work and sleeps until it fires (blocking-sync event: no
     * spinning).
     */
    private void waitForStream() throws BackendException {
        Cuda.check(cudart.cudaEventRecord(done, stream), "cudaEventRecord");
        Cuda.check(cudart.cudaEventSynchronize(done), "the batch on the GPU");
    }
}
