package io.flinktrt.sql;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;
import io.flinktrt.backend.tensorrt.plan.PlanTensors;

import org.apache.flink.table.api.ValidationException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A model's inputs and outputs, read where the statement is planned without a GPU: a TensorRT plan
 * from its build-engine metadata, an ONNX file from ONNX Runtime on the CPU (the same tensors
 * TensorRT builds its engine with).
 */
final class PlannedSignature {

    private PlannedSignature() {}

    static ModelSignature read(Path model) {
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
        try {
            return model.getFileName().toString().endsWith(".onnx")
                    ? fromOnnx(model)
                    : fromPlan(model);
        } catch (BackendException | IOException e) {
            throw new ValidationException(
                    "Cannot read the inputs and outputs of " + model + ": " + e.getMessage(), e);
        }
    }

    private static ModelSignature fromOnnx(Path model) throws BackendException {
        try (ModelRunner runner =
                new OnnxRuntimeBackend().open(new ModelConfig(model, 0, 0, 1, Map.of()))) {
            return runner.signature();
        }
    }

    private static ModelSignature fromPlan(Path plan) throws IOException, BackendException {
        Path sidecar = PlanMetadata.sidecarOf(plan);
        if (!Files.isRegularFile(sidecar)) {
            throw new IOException(
                    "its metadata "
                            + sidecar.getFileName()
                            + " is missing; build the plan with"
                            + " build-engine, which writes it next to the plan");
        }
        PlanTensors tensors = PlanMetadata.read(sidecar).tensors();
        for (TensorSpec tensor :
                Stream.concat(tensors.inputs().stream(), tensors.outputs().stream()).toList()) {
            if (Arrays.stream(tensor.sampleShape()).anyMatch(d -> d <= 0)) {
                throw new IOException(
                        "tensor "
                                + tensor.name()
                                + " has a dynamic sample dimension "
                                + Arrays.toString(tensor.batchShape(-1))
                                + "; only the batch dimension may vary");
            }
        }
        return new ModelSignature(
                ModelFiles.modelName(plan),
                "",
                tensors.inputs(),
                tensors.outputs(),
                tensors.maxBatch());
    }
}
