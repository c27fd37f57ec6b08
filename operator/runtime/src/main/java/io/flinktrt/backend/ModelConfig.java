package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
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
 * @param sequenceLengths for a model whose inputs vary in length beyond the batch (text): the
 *     lengths a batch may run at, ascending, the last the longest; empty takes a TensorRT plan's
 *     own (its profiles' longest lengths), and ONNX Runtime then needs them
 */
@PublicEvolving
public record ModelConfig(
        Path modelPath,
        int deviceIndex,
        int maxBatchSize,
        int buffersInFlight,
        Map<String, String> options,
        List<Integer> sequenceLengths)
        implements Serializable {

    public ModelConfig {
        options = Map.copyOf(options);
        sequenceLengths = List.copyOf(sequenceLengths);
    }

    /** A configuration that leaves sequence lengths to the model. */
    public ModelConfig(
            Path modelPath,
            int deviceIndex,
            int maxBatchSize,
            int buffersInFlight,
            Map<String, String> options) {
        this(modelPath, deviceIndex, maxBatchSize, buffersInFlight, options, List.of());
    }

    /** This configuration with other sequence lengths. */
    public ModelConfig withSequenceLengths(List<Integer> lengths) {
        return new ModelConfig(
                modelPath, deviceIndex, maxBatchSize, buffersInFlight, options, lengths);
    }
}
