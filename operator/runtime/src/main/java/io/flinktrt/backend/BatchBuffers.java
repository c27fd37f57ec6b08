package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One set of input and output buffers of a {@link ModelRunner}, sized for its max batch. Row {@code
 * r} of input {@code i} lives at byte {@code r * inputs().get(i).sampleBytes()}.
 */
@PublicEvolving
public interface BatchBuffers {

    /**
     * Input buffer {@code index} (signature order): direct, little-endian, written with absolute
     * puts.
     */
    ByteBuffer input(int index);

    /**
     * Where JPEGs of image input {@code index} go to be decoded on the runner's device; empty where
     * the runner decodes none (no GPU decoder, or the input is not image-shaped): then write each
     * row's pixels. {@code mean} and {@code std} (R, G, B) scale a float32 input.
     */
    default Optional<DeviceImages> deviceImages(int index, float[] mean, float[] std) {
        return Optional.empty();
    }

    /**
     * Runs the first {@code rows} rows. The future completes on the backend's thread once the
     * outputs can be read, or exceptionally with a {@link BackendException}.
     */
    CompletableFuture<BatchRun> run(int rows);

    /**
     * Runs the first {@code rows} rows of a model with a sequence axis, whose longest row holds
     * {@code tokens} positions: the backend computes them at the smallest sequence length that
     * holds it (rows stay laid out at the longest length; positions past a row's own are its
     * padding). Without a sequence axis, {@link #run(int)}.
     */
    default CompletableFuture<BatchRun> run(int rows, int tokens) {
        return run(rows);
    }

    /**
     * Output buffer {@code index}, valid from the completion of {@link #run} until {@link
     * #release}.
     */
    ByteBuffer output(int index);

    /** Gives the buffers back to the runner; they must not be touched afterwards. */
    void release();
}
