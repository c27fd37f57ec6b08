package io.flinktrt.sql;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.repository.ServingPolicy;
import io.flinktrt.slot.SlotSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The checked {@code WITH} options one model's predict functions run with. */
record PredictSettings(
        String backend,
        String model,
        String modelRepository,
        ServingPolicy servingPolicy,
        int device,
        String gpuResource,
        int maxBatch,
        List<Integer> sequenceLengths,
        Duration maxDelay,
        int buffers,
        Duration rowTimeout,
        ErrorHandlingStrategy errorHandling,
        Map<String, String> backendOptions)
        implements SlotSettings {

    /** ML_PREDICT has no checkpoint hook to swap at: the version chosen at open serves. */
    @Override
    public Duration repositoryPollInterval() {
        return Duration.ZERO;
    }

    @Override
    public ModelConfig modelConfig(Path modelFile, int deviceIndex) {
        return new ModelConfig(
                modelFile, deviceIndex, maxBatch, buffers, backendOptions, sequenceLengths);
    }
}
