package io.flinktrt.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small ONNX models built in the test, and ONNX Runtime to run them; in the test jar for the text
 * models of the operator's tests.
 */
public final class TestGraphs {

    private final List<ProtoMessage> nodes = new ArrayList<>();
    private final List<ProtoMessage> inputs = new ArrayList<>();
    private final List<ProtoMessage> outputs = new ArrayList<>();
    private final List<ProtoMessage> valueInfo = new ArrayList<>();
    private final List<ProtoMessage> initializers = new ArrayList<>();

    public TestGraphs node(
            String name, String op, List<String> in, List<String> out, ProtoMessage... attributes) {
        nodes.add(Onnx.node(name, op, in, out, attributes));
        return this;
    }

    public TestGraphs cast(String name, String in, String out, int to) {
        nodes.add(Onnx.cast(name, in, out, to));
        return this;
    }

    /** dims: Long for a fixed size, String for a named (dynamic) one */
    public TestGraphs input(String name, int type, Object... dims) {
        inputs.add(valueInfo(name, type, dims));
        return this;
    }

    public TestGraphs output(String name, int type, Object... dims) {
        outputs.add(valueInfo(name, type, dims));
        return this;
    }

    TestGraphs valueInfo(String name, int type) {
        valueInfo.add(valueInfo(name, type, new Object[0]));
        return this;
    }

    public TestGraphs int64s(String name, long... values) {
        ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            raw.putLong(v);
        }
        return initializer(name, Onnx.INT64, raw.array(), values.length);
    }

    public TestGraphs floats(String name, float... values) {
        ByteBuffer raw = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        return initializer(name, Onnx.FLOAT, raw.array(), values.length);
    }

    /**
     * A float16 initializer of shape {@code dims}; every value must be exact in float16 (a normal
     * number with at most 11 significant bits, or zero), so that a float32 twin holds the same.
     */
    public TestGraphs halves(String name, float[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putShort(exactHalf(v));
        }
        return initializer(name, Onnx.FLOAT16, raw.array(), dims);
    }

    private static short exactHalf(float value) {
        if (value == 0) {
            return 0;
        }
        int bits = Float.floatToIntBits(value);
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = bits & 0x7fffff;
        if (exponent < 1 || exponent > 30 || (mantissa & 0x1fff) != 0) {
            throw new IllegalArgumentException(value + " is not exact in float16");
        }
        return (short) (((bits >>> 16) & 0x8000) | (exponent << 10) | (mantissa >>> 13));
    }

    TestGraphs uint8s(String name, byte... values) {
        return initializer(name, Onnx.UINT8, values, values.length);
    }

    /** A float initializer of shape {@code dims} (row-major values). */
    public TestGraphs floats(String name, float[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        return initializer(name, Onnx.FLOAT, raw.array(), dims);
    }

    private TestGraphs initializer(String name, int type, byte[] raw, long... dims) {
        ProtoMessage tensor = new ProtoMessage();
        for (long d : dims) {
            tensor.addVarint(Onnx.TENSOR_DIMS, d);
        }
        initializers.add(
                tensor.addVarint(Onnx.TENSOR_DATA_TYPE, type)
                        .addString(Onnx.TENSOR_NAME, name)
                        .addBytes(Onnx.TENSOR_RAW_DATA, raw));
        return this;
    }

    static ProtoMessage stringAttribute(String name, String value) {
        return new ProtoMessage()
                .addString(Onnx.ATTRIBUTE_NAME, name)
                .addString(Onnx.ATTRIBUTE_STRING, value)
                .addVarint(Onnx.ATTRIBUTE_TYPE, 3);
    }

    static ProtoMessage intsAttribute(String name, long... values) {
        ProtoMessage attribute = new ProtoMessage().addString(Onnx.ATTRIBUTE_NAME, name);
        for (long v : values) {
            attribute.addVarint(8, v);
        }
        return attribute.addVarint(Onnx.ATTRIBUTE_TYPE, 7);
    }

    static ProtoMessage graphAttribute(String name, TestGraphs body) {
        return new ProtoMessage()
                .addString(Onnx.ATTRIBUTE_NAME, name)
                .addMessage(Onnx.ATTRIBUTE_GRAPH, body.graph())
                .addVarint(Onnx.ATTRIBUTE_TYPE, 5);
    }

    ProtoMessage graph() {
        ProtoMessage graph = new ProtoMessage();
        nodes.forEach(n -> graph.addMessage(Onnx.GRAPH_NODE, n));
        graph.addString(2, "test");
        initializers.forEach(t -> graph.addMessage(Onnx.GRAPH_INITIALIZER, t));
        inputs.forEach(v -> graph.addMessage(Onnx.GRAPH_INPUT, v));
        outputs.forEach(v -> graph.addMessage(Onnx.GRAPH_OUTPUT, v));
        valueInfo.forEach(v -> graph.addMessage(Onnx.GRAPH_VALUE_INFO, v));
        return graph;
    }

    /** A ModelProto: IR version 8, opset 17. */
    public byte[] model() {
        return new ProtoMessage()
                .addVarint(1, 8)
                .addString(2, "flink-tensorrt tests")
                .addMessage(Onnx.MODEL_GRAPH, graph())
                .addMessage(8, new ProtoMessage().addString(1, "").addVarint(2, 17))
                .toByteArray();
    }

    private static ProtoMessage valueInfo(String name, int type, Object[] dims) {
        ProtoMessage shape = new ProtoMessage();
        for (Object dim : dims) {
            shape.addMessage(
                    Onnx.SHAPE_DIM,
                    dim instanceof String param
                            ? new ProtoMessage().addString(Onnx.DIM_PARAM, param)
                            : new ProtoMessage()
                                    .addVarint(Onnx.DIM_VALUE, ((Number) dim).longValue()));
        }
        ProtoMessage tensor = new ProtoMessage().addVarint(Onnx.TENSOR_TYPE_ELEM_TYPE, type);
        if (dims.length > 0) {
            tensor.addMessage(Onnx.TENSOR_TYPE_SHAPE, shape);
        }
        return new ProtoMessage()
                .addString(Onnx.VALUE_INFO_NAME, name)
                .addMessage(
                        Onnx.VALUE_INFO_TYPE,
                        new ProtoMessage().addMessage(Onnx.TYPE_TENSOR, tensor));
    }

    /**
     * Runs a model on ONNX Runtime with random uint8 inputs (values 0-255); output name to its raw
     * bytes.
     */
    static Map<String, byte[]> run(byte[] model, Map<String, long[]> uint8Inputs, long seed)
            throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Random random = new Random(seed);
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions())) {
            for (Map.Entry<String, long[]> input : uint8Inputs.entrySet()) {
                long count = 1;
                for (long d : input.getValue()) {
                    count *= d;
                }
                byte[] values = new byte[(int) count];
                random.nextBytes(values);
                ByteBuffer data = ByteBuffer.allocateDirect(values.length).put(values).flip();
                feed.put(
                        input.getKey(),
                        OnnxTensor.createTensor(env, data, input.getValue(), OnnxJavaType.UINT8));
            }
            Map<String, byte[]> outputs = new LinkedHashMap<>();
            try (OrtSession.Result result = session.run(feed)) {
                for (Map.Entry<String, OnnxValue> output : result) {
                    ByteBuffer bytes = ((OnnxTensor) output.getValue()).getByteBuffer();
                    byte[] array = new byte[bytes.remaining()];
                    bytes.get(array);
                    outputs.put(output.getKey(), array);
                }
            }
            return outputs;
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }
}
