package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a backend needs to open a model for one slot.
 *
 * @param modelPath ONNX file (both backends) or TensorRT plan (TensorRT)
 * @param deviceIndex GPU index for GPU backends; ignored on the CPU
 * @param maxBatchSize upper bound on rows per batch; 0 takes the model's own limit
 * @param buffersInFlight batches a runner may hold at once (filling one while another computes)
 * @param options backend-specific settings, e.g. {@code tensorrt.allow-host-code}; each backend
 *     checks its own (TensorRtOptions, OnnxRuntimeOptions)
 */
@PublicEvolving
public record ModelConfig(
        Path modelPath,
        int deviceIndex,
        int maxBatchSize,
        int buffersInFlight,
        Map<String, String> options)
        implements Serializable {

    public ModelConfig {
        options = Map.copyOf(options);
    }
}
