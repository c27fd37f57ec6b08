package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A model opened for one task slot (Triton's model instance, DJL's {@code Predictor}). It owns a
 * few sets of batch buffers; a caller takes one, fills its inputs, runs it and releases it when it
 * has read the outputs. Used by one task, but buffers complete on the runner's own thread.
 */
@PublicEvolving
public interface ModelRunner extends AutoCloseable {

    ModelSignature signature();

    /** Name of the backend that runs it, reported in every result. */
    String backendName();

    /**
     * Takes a free set of buffers, waiting while all of them are in flight: this wait is how a slow
     * backend pushes back on the stream.
     */
    BatchBuffers acquire() throws InterruptedException;

    /**
     * Batches the device computes at once. More may be in flight (copied, queued for the device),
     * but they would wait for it: a scheduler keeps a batch due only by its max-delay open while
     * this many run, so that records arriving meanwhile join it rather than wait in a small batch
     * of their own (Triton forms a batch when a model instance is free). Full batches are not held.
     * Default: no bound.
     */
    default int concurrentBatches() {
        return Integer.MAX_VALUE;
    }

    /** Waits for batches in flight, then frees everything this runner holds. */
    @Override
    void close();
}
