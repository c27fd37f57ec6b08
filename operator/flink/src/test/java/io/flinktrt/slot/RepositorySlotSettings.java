package io.flinktrt.slot;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.repository.ServingPolicy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A slot serving the repository model {@code mlp} on {@code backend}, as the tests open it. */
record RepositorySlotSettings(
        String backend, String modelRepository, Duration repositoryPollInterval, int maxBatch)
        implements SlotSettings {

    @Override
    public String model() {
        return "mlp";
    }

    @Override
    public ServingPolicy servingPolicy() {
        return ServingPolicy.LATEST;
    }

    @Override
    public int device() {
        return 0;
    }

    @Override
    public String gpuResource() {
        return "gpu";
    }

    @Override
    public Duration maxDelay() {
        return Duration.ofMillis(1);
    }

    @Override
    public ModelConfig modelConfig(Path modelFile, int deviceIndex) {
        return new ModelConfig(modelFile, deviceIndex, maxBatch, 2, Map.of());
    }
}
