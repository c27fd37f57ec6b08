package io.flinktrt.onnx;

import org.apache.flink.annotation.Internal;

import java.util.List;
import java.util.Map;

/** The few ONNX field numbers and data types this package reads and writes (onnx/onnx.proto). */
@Internal
public final class Onnx {

    public static final int MODEL_GRAPH = 7;

    public static final int GRAPH_NODE = 1;
    public static final int GRAPH_INITIALIZER = 5;
    public static final int GRAPH_INPUT = 11;
    public static final int GRAPH_OUTPUT = 12;
    public static final int GRAPH_VALUE_INFO = 13;

    public static final int NODE_INPUT = 1;
    public static final int NODE_OUTPUT = 2;
    public static final int NODE_NAME = 3;
    public static final int NODE_OP_TYPE = 4;
    public static final int NODE_ATTRIBUTE = 5;
    public static final int NODE_DOMAIN = 7;

    public static final int ATTRIBUTE_NAME = 1;
    public static final int ATTRIBUTE_INT = 3;
    public static final int ATTRIBUTE_STRING = 4;
    public static final int ATTRIBUTE_GRAPH = 6;
    public static final int ATTRIBUTE_GRAPHS = 11;
    public static final int ATTRIBUTE_TYPE = 20;
    public static final int ATTRIBUTE_TYPE_INT = 2;

    public static final int VALUE_INFO_NAME = 1;
    public static final int VALUE_INFO_TYPE = 2;
    public static final int TYPE_TENSOR = 1;
    public static final int TENSOR_TYPE_ELEM_TYPE = 1;
    public static final int TENSOR_TYPE_SHAPE = 2;
    public static final int SHAPE_DIM = 1;
    public static final int DIM_VALUE = 1;
    public static final int DIM_PARAM = 2;

    public static final int TENSOR_DIMS = 1;
    public static final int TENSOR_DATA_TYPE = 2;
    public static final int TENSOR_NAME = 8;
    public static final int TENSOR_RAW_DATA = 9;

    // TensorProto.DataType
    public static final int FLOAT = 1;
    public static final int UINT8 = 2;
    public static final int INT8 = 3;
    public static final int UINT16 = 4;
    public static final int INT16 = 5;
    public static final int INT32 = 6;
    public static final int INT64 = 7;
    public static final int BOOL = 9;
    public static final int FLOAT16 = 10;
    public static final int DOUBLE = 11;
    public static final int UINT32 = 12;
    public static final int UINT64 = 13;
    public static final int BFLOAT16 = 16;

    private static final Map<Integer, String> TYPE_NAMES =
            Map.ofEntries(
                    Map.entry(FLOAT, "float32"),
                    Map.entry(UINT8, "uint8"),
                    Map.entry(INT8, "int8"),
                    Map.entry(UINT16, "uint16"),
                    Map.entry(INT16, "int16"),
                    Map.entry(INT32, "int32"),
                    Map.entry(INT64, "int64"),
                    Map.entry(8, "string"),
                    Map.entry(BOOL, "bool"),
                    Map.entry(FLOAT16, "float16"),
                    Map.entry(DOUBLE, "float64"),
                    Map.entry(UINT32, "uint32"),
                    Map.entry(UINT64, "uint64"),
                    Map.entry(BFLOAT16, "bfloat16"));

    private Onnx() {}

    public static String typeName(long dataType) {
        return TYPE_NAMES.getOrDefault((int) dataType, "data type " + dataType);
    }

    /** The element type of a ValueInfoProto's tensor, or 0 when it has none. */
    public static long elementType(ProtoMessage valueInfo) {
        return valueInfo
                .message(VALUE_INFO_TYPE)
                .flatMap(t -> t.message(TYPE_TENSOR))
                .map(t -> t.varint(TENSOR_TYPE_ELEM_TYPE, 0))
                .orElse(0L);
    }

    public static ProtoMessage node(
            String name,
            String opType,
            List<String> inputs,
            List<String> outputs,
            ProtoMessage... attributes) {
        ProtoMessage node = new ProtoMessage();
        inputs.forEach(input -> node.addString(NODE_INPUT, input));
        outputs.forEach(output -> node.addString(NODE_OUTPUT, output));
        node.addString(NODE_NAME, name).addString(NODE_OP_TYPE, opType);
        for (ProtoMessage attribute : attributes) {
            node.addMessage(NODE_ATTRIBUTE, attribute);
        }
        return node;
    }

    public static ProtoMessage intAttribute(String name, long value) {
        return new ProtoMessage()
                .addString(ATTRIBUTE_NAME, name)
                .addVarint(ATTRIBUTE_INT, value)
                .addVarint(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT);
    }

    public static ProtoMessage cast(String name, String input, String output, int to) {
        return node(name, "Cast", List.of(input), List.of(output), intAttribute("to", to));
    }
}
