package io.flinktrt.sql;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.slot.SlotSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** The checked {@code WITH} options one model's predict functions run with. */
record PredictSettings(
        String backend,
        String model,
        int device,
        String gpuResource,
        int maxBatch,
        Duration maxDelay,
        int buffers,
        Duration rowTimeout,
        ErrorHandlingStrategy errorHandling,
        Map<String, String> backendOptions)
        implements SlotSettings {

    @Override
    public ModelConfig modelConfig(int deviceIndex) {
        return new ModelConfig(Path.of(model), deviceIndex, maxBatch, buffers, backendOptions);
    }
}
