package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

/**
 * How one batch ran.
 *
 * @param rows rows of real requests
 * @param executedRows rows the backend computed (rows padded up to a batch bucket)
 * @param computeNanos time on the backend, copies included
 */
@PublicEvolving
public record BatchRun(int rows, int executedRows, long computeNanos) {}
