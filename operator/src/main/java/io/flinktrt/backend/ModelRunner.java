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

    /** Waits for batches in flight, then frees everything this runner holds. */
    @Override
    void close();
}
