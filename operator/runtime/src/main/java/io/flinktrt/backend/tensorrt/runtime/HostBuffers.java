package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.DeviceImages;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.gpu.Cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One batch's pinned host buffers, inputs and outputs, for the max batch. Apart from the {@link
 * Lane}s (contexts) on purpose: a batch is filled and its results are read while it holds no
 * context, so the contexts are busy only with GPU work, as in a plain {@code enqueueV3} loop.
 */
final class HostBuffers implements BatchBuffers {

    /** The pinned memory, positioned at a chunk's first row for its copies. */
    final List<BytePointer> inputBytes = new ArrayList<>();

    final List<BytePointer> outputBytes = new ArrayList<>();
    private final List<ByteBuffer> inputs = new ArrayList<>();
    private final List<ByteBuffer> outputs = new ArrayList<>();

    /** Per input: the JPEGs handed over for the GPU to decode (null: not an image input). */
    private final List<EncodedRows> encoded = new ArrayList<>();

    private final Runs runner;

    /** How a filled set is run: {@code tokens}, the longest row's, is 0 without a sequence axis. */
    @FunctionalInterface
    interface Runs {
        CompletableFuture<BatchRun> run(HostBuffers host, int rows, int tokens);
    }

    private final Consumer<HostBuffers> onRelease;

    /**
     * Allocates nothing; {@link #allocate} does, so a failure can free what was allocated so far.
     */
    HostBuffers(Runs runner, Consumer<HostBuffers> onRelease) {
        this.runner = runner;
        this.onRelease = onRelease;
    }

    /** {@code decodeImages}: whether image inputs take JPEGs to decode on the GPU. */
    void allocate(
            List<TensorSpec> inputSpecs,
            List<TensorSpec> outputSpecs,
            int maxBatch,
            boolean decodeImages)
            throws BackendException {
        for (TensorSpec spec : inputSpecs) {
            inputs.add(pinned(spec, maxBatch, inputBytes));
            encoded.add(decodeImages ? EncodedRows.forInput(spec, maxBatch) : null);
        }
        for (TensorSpec spec : outputSpecs) {
            outputs.add(pinned(spec, maxBatch, outputBytes));
        }
    }

    private static ByteBuffer pinned(TensorSpec spec, int maxBatch, List<BytePointer> memory)
            throws BackendException {
        long bytes = (long) maxBatch * spec.sampleBytes();
        Pointer p = new Pointer();
        Cuda.check(
                cudart.cudaMallocHost(p, bytes),
                "cudaMallocHost(" + bytes + ") for " + spec.name());
        BytePointer view = new BytePointer(p).capacity(bytes);
        memory.add(view);
        return view.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
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
    public Optional<DeviceImages> deviceImages(int index, float[] mean, float[] std) {
        EncodedRows rows = encoded.get(index);
        if (rows == null) {
            return Optional.empty();
        }
        rows.scaling(mean, std);
        return Optional.of(rows);
    }

    /** Input {@code index}'s JPEGs, null where it takes none. */
    EncodedRows encodedRows(int index) {
        return encoded.get(index);
    }

    @Override
    public CompletableFuture<BatchRun> run(int rows) {
        return runner.run(this, rows, 0);
    }

    @Override
    public CompletableFuture<BatchRun> run(int rows, int tokens) {
        return runner.run(this, rows, tokens);
    }

    @Override
    public void release() {
        for (EncodedRows rows : encoded) {
            if (rows != null) {
                rows.clear();
            }
        }
        onRelease.accept(this);
    }

    /** After every batch on it has completed. */
    void free() {
        inputBytes.forEach(
                p -> Cuda.checkQuietly(cudart.cudaFreeHost(p.position(0)), "cudaFreeHost"));
        outputBytes.forEach(
                p -> Cuda.checkQuietly(cudart.cudaFreeHost(p.position(0)), "cudaFreeHost"));
        inputBytes.clear();
        outputBytes.clear();
        inputs.clear();
        outputs.clear();
        encoded.clear();
    }
}
