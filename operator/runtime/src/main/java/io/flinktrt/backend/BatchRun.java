package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

/**
 * How one batch ran.
 *
 * @param rows rows of real requests
 * @param executedRows rows the backend computed (rows padded up to a batch bucket)
 * @param computeNanos time on the backend, copies included
 * @param tokens the real rows' own lengths summed, for a model with a sequence axis (else 0)
 * @param executedLength the sequence length the rows were computed at (else 0)
 */
@PublicEvolving
public record BatchRun(
        int rows, int executedRows, long computeNanos, long tokens, int executedLength) {

    /** A batch of a model without a sequence axis. */
    public BatchRun(int rows, int executedRows, long computeNanos) {
        this(rows, executedRows, computeNanos, 0, 0);
    }

    /** This run, with its rows' own lengths summed (known to the scheduler, not the backend). */
    public BatchRun withTokens(long rowTokens) {
        return new BatchRun(rows, executedRows, computeNanos, rowTokens, executedLength);
    }
}
