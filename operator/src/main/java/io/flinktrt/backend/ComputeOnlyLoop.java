package io.flinktrt.backend;

import java.time.Duration;

/**
 * Optional capability of a {@link ModelRunner}: run the model back to back on data already on the
 * device, without host copies, the way {@code trtexec --noDataTransfers} does. The bench command
 * uses it as the upper bound the operator is compared with.
 */
public interface ComputeOnlyLoop {

    /** Records per second of batches of {@code rows}, one batch in flight per buffer set, for {@code duration}. */
    double computeOnlyRecordsPerSecond(int rows, Duration duration) throws BackendException;
}
