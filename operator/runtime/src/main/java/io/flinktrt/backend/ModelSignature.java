package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.List;

/**
 * What an opened model takes and gives.
 *
 * @param modelName name reported in results (the file name without extension)
 * @param checksum SHA-256 (hex) of the model or plan file
 * @param maxBatchSize most rows one batch may hold (for TensorRT, the largest profile's max)
 */
@PublicEvolving
public record ModelSignature(
        String modelName,
        String checksum,
        List<TensorSpec> inputs,
        List<TensorSpec> outputs,
        int maxBatchSize)
        implements Serializable {

    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public int inputIndex(String name) {
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
