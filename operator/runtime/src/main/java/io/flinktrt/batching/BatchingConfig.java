package io.flinktrt.batching;

import org.apache.flink.annotation.Internal;

import java.time.Duration;

/**
 * How a {@link BatchScheduler} forms batches.
 *
 * @param name names its threads and log lines, e.g. the model and the subtask
 * @param maxBatchSize most records in one batch; at most the runner's max batch
 * @param maxDelay longest time the oldest waiting record waits for more to join it, once a buffer
 *     set is free; zero runs whatever waits as soon as a buffer set is free
 */
@Internal
public record BatchingConfig(String name, int maxBatchSize, Duration maxDelay) {

    public BatchingConfig {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException(
                    "Max batch size must be at least 1, was " + maxBatchSize);
        }
        if (maxDelay.isNegative()) {
            throw new IllegalArgumentException("Max delay must not be negative, was " + maxDelay);
        }
    }
}
