package io.flinktrt.batching;

import io.flinktrt.backend.BatchRun;

import org.apache.flink.annotation.Internal;

/**
 * What a {@link BatchScheduler} reports as batches go through it, for metrics. Called from its
 * threads.
 */
@Internal
public interface BatchListener {

    BatchListener NONE = new BatchListener() {};

    /** A batch's records were copied into its buffers, in {@code micros}. */
    default void batchFilled(long micros) {}

    /** The backend ran a batch (a part of a failed batch retried counts as one). */
    default void batchDone(BatchRun run) {}

    /** A batch's outputs were read and its records completed, in {@code micros}. */
    default void batchAnswered(long micros) {}

    /**
     * One record got its output: it waited {@code queueMicros} for its batch, {@code totalMicros}
     * in all.
     */
    default void recordDone(long queueMicros, long totalMicros) {}
}
