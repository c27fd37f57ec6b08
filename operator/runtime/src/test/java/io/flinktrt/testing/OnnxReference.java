package io.flinktrt.testing;

import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Runs one request through ONNX Runtime directly, batch of one, with none of the project's code on
 * the path: what the operator's outputs are compared against.
 */
public final class OnnxReference implements AutoCloseable {

    private final OrtSession session;

    public OnnxReference(Path model) throws Exception {
        session =
                OrtEnvironment.getEnvironment()
                        .createSession(model.toString(), new OrtSession.SessionOptions());
    }

    /** Output name to its float values, for models whose outputs are FLOAT32. */
    public Map<String, float[]> run(InferenceRequest request) throws Exception {
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            for (Tensor tensor : request.getTensors()) {
                long[] shape = tensor.getShape().stream().mapToLong(Long::longValue).toArray();
                ByteBuffer data =
                        ByteBuffer.allocateDirect(tensor.getData().remaining())
                                .order(ByteOrder.nativeOrder());
                data.put(tensor.getData().duplicate()).flip();
                inputs.put(
                        tensor.getName(),
                        OnnxTensor.createTensor(
                                OrtEnvironment.getEnvironment(),
                                data,
                                shape,
                                switch (tensor.getDtype()) {
                                    case FLOAT32 -> ai.onnxruntime.OnnxJavaType.FLOAT;
                                    case INT64 -> ai.onnxruntime.OnnxJavaType.INT64;
                                    case INT32 -> ai.onnxruntime.OnnxJavaType.INT32;
                                    default ->
                                            throw new IllegalArgumentException(
                                                    "reference supports float32/int32/int64 inputs");
                                }));
            }
            Map<String, float[]> outputs = new LinkedHashMap<>();
            try (OrtSession.Result result = session.run(inputs)) {
                for (Map.Entry<String, OnnxValue> output : result) {
                    FloatBuffer values = ((OnnxTensor) output.getValue()).getFloatBuffer();
                    float[] array = new float[values.remaining()];
                    values.get(array);
                    outputs.put(output.getKey(), array);
                }
            }
            return outputs;
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * Asserts that {@code outputs} are what ONNX Runtime computes for {@code request}, each value
     * within {@code tolerance}.
     */
    public void assertAnswers(InferenceRequest request, List<Tensor> outputs, float tolerance)
            throws Exception {
        Map<String, float[]> expected = run(request);
        assertThat(outputs).hasSize(expected.size());
        for (Tensor output : outputs) {
            assertThat(floats(output))
                    .as("%s of %s", output.getName(), request.getId())
                    .containsExactly(expected.get(output.getName()), within(tolerance));
        }
    }

    public static float[] floats(Tensor tensor) {
        FloatBuffer values =
                tensor.getData().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] array = new float[values.remaining()];
        values.get(array);
        return array;
    }

    @Override
    public void close() throws Exception {
        session.close();
    }
}
