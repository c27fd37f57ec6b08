package io.flinktrt.batching;

import io.flinktrt.backend.BatchRun;

import org.apache.flink.annotation.PublicEvolving;

/**
 * The batch a record ran in, for the timings a result reports.
 *
 * @param run how the backend ran it (rows, executed rows, compute time)
 * @param startNanos when the batch was formed ({@link System#nanoTime()}); a record's queue time is
 *     this minus its arrival
 * @param doneNanos when its outputs could be read
 */
@PublicEvolving
public record BatchInfo(BatchRun run, long startNanos, long doneNanos) {}
