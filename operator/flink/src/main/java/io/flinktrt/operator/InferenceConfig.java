package io.flinktrt.operator;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.repository.ServingPolicy;
import io.flinktrt.slot.SlotSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Everything one {@link InferenceFunction} needs; checked by {@link InferenceFunctionBuilder}. */
record InferenceConfig(
        String backend,
        String model,
        String modelRepository,
        ServingPolicy servingPolicy,
        Duration repositoryPollInterval,
        int device,
        int maxBatchSize,
        List<Integer> sequenceLengths,
        Duration maxDelay,
        int buffersInFlight,
        int capacity,
        Duration timeout,
        boolean ordered,
        Map<String, String> backendOptions,
        String uid,
        String name)
        implements SlotSettings {

    /** Flink's external resource name for GPUs (docs/operations.md). */
    @Override
    public String gpuResource() {
        return "gpu";
    }

    @Override
    public ModelConfig modelConfig(Path modelFile, int deviceIndex) {
        return new ModelConfig(
                modelFile,
                deviceIndex,
                maxBatchSize,
                buffersInFlight,
                backendOptions,
                sequenceLengths);
    }

    /**
     * The async operator's capacity: enough for every buffer set to be full and one more batch
     * filling.
     */
    int effectiveCapacity(int modelMaxBatch) {
        return capacity > 0 ? capacity : Math.max(2, buffersInFlight + 1) * modelMaxBatch;
    }
}
