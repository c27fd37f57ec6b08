package io.flinktrt.repository;

import io.flinktrt.onnx.Onnx;
import io.flinktrt.onnx.ProtoMessage;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Model repositories for tests: versions of the MLP classifier (16 inputs, 10 classes) that answer
 * differently, dropped in the way docs/operations.md tells users to (written aside, then renamed).
 */
public final class RepositoryVersions {

    private static final int TENSOR_FLOAT_DATA = 4;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;

    private RepositoryVersions() {}

    /**
     * Adds version {@code version} of {@code name}: the MLP classifier whose output bias is {@code
     * version} times (0, 1, ..., 9), so each version ranks the classes its own way.
     */
    public static Path addMlpVersion(Path repository, String name, long version)
            throws IOException {
        byte[] model = Files.readAllBytes(TestModels.path(TestModels.MLP));
        Path entry = Files.createDirectories(repository.resolve(name));
        Path incoming = Files.createDirectories(entry.resolve("." + version + "-incoming"));
        Files.write(incoming.resolve(ModelRepository.ONNX_FILE), withOutputBias(model, version));
        return Files.move(
                incoming, entry.resolve(Long.toString(version)), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes the entry's serving.properties (replacing it at once). */
    public static void writePolicy(Path repository, String name, String properties)
            throws IOException {
        Path entry = repository.resolve(name);
        Path temporary = entry.resolve(".serving.properties.tmp");
        Files.writeString(temporary, properties);
        Files.move(
                temporary,
                entry.resolve(ModelRepository.POLICY_FILE),
                StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Asserts that each result is what ONNX Runtime, run directly on the ONNX file of the version
     * the result is labelled with, answers to its request ({@code requests} by id), each value
     * within {@code tolerance}.
     */
    public static void assertAnswers(
            Path repository,
            String name,
            Iterable<InferenceResult> results,
            Function<String, InferenceRequest> requests,
            float tolerance)
            throws Exception {
        Map<Long, OnnxReference> references = new HashMap<>();
        try {
            for (InferenceResult result : results) {
                OnnxReference reference = references.get(result.getModelVersion());
                if (reference == null) {
                    reference =
                            new OnnxReference(
                                    repository
                                            .resolve(name)
                                            .resolve(Long.toString(result.getModelVersion()))
                                            .resolve(ModelRepository.ONNX_FILE));
                    references.put(result.getModelVersion(), reference);
                }
                reference.assertAnswers(
                        requests.apply(result.getId()), result.getOutputs(), tolerance);
            }
        } finally {
            for (OnnxReference reference : references.values()) {
                reference.close();
            }
        }
    }

    private static byte[] withOutputBias(byte[] model, long version) {
        ProtoMessage parsed = ProtoMessage.parse(model);
        ProtoMessage graph = parsed.message(Onnx.MODEL_GRAPH).orElseThrow();
        List<ProtoMessage> initializers = new ArrayList<>();
        for (ProtoMessage tensor : graph.messages(Onnx.GRAPH_INITIALIZER)) {
            if ("b2".equals(tensor.string(TENSOR_NAME))) {
                ByteBuffer bias =
                        ByteBuffer.allocate(10 * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < 10; i++) {
                    bias.putFloat(version * i);
                }
                tensor.remove(TENSOR_FLOAT_DATA)
                        .remove(TENSOR_RAW_DATA)
                        .addBytes(TENSOR_RAW_DATA, bias.array());
            }
            initializers.add(tensor);
        }
        graph.setMessages(Onnx.GRAPH_INITIALIZER, initializers);
        return parsed.setMessage(Onnx.MODEL_GRAPH, graph).toByteArray();
    }
}
