package io.flinktrt.sql;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;

import org.apache.flink.table.api.ValidationException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * A model's inputs and outputs where the statement is planned, which may have no GPU: described by
 * the backend SPI without opening the model (a TensorRT plan from its build-engine metadata, an
 * ONNX file from its graph).
 */
final class PlannedSignature {

    private PlannedSignature() {}

    static ModelSignature read(String backend, Path model, List<Integer> sequenceLengths) {
        if (!Files.isRegularFile(model)) {
            throw new ValidationException(
                    "Model file "
                            + model.toAbsolutePath()
                            + " does not exist where the"
                            + " statement is planned; '"
                            + ModelProviderOptions.MODEL.key()
                            + "' must name an ONNX file or a"
                            + " TensorRT plan readable here and on every task manager.");
        }
        ModelSignature signature;
        try {
            signature = Backends.describe(backend, model, sequenceLengths);
        } catch (BackendException e) {
            throw new ValidationException(
                    "Cannot read the inputs and outputs of " + model + ": " + e.getMessage(), e);
        }
        for (TensorSpec tensor :
                Stream.concat(signature.inputs().stream(), signature.outputs().stream()).toList()) {
            if (Arrays.stream(tensor.sampleShape()).anyMatch(d -> d <= 0)
                    && !signature.sequence().has(tensor)) {
                throw new ValidationException(
                        "Cannot read the inputs and outputs of "
                                + model
                                + ": tensor "
                                + tensor.name()
                                + " has a dynamic sample dimension "
                                + Arrays.toString(tensor.batchShape(-1))
                                + "; only the batch and a sequence length may vary");
            }
        }
        return signature;
    }
}
