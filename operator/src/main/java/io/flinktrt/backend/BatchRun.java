package io.flinktrt.backend;

/**
 * How one batch ran.
 *
 * @param rows rows of real requests
 * @param executedRows rows the backend computed (rows padded up to a batch bucket)
 * @param computeNanos time on the backend, copies included
 */
public record BatchRun(int rows, int executedRows, long computeNanos) {}
