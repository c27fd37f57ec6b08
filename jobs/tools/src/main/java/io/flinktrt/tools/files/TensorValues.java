package io.flinktrt.tools.files;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.schema.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The elements of a tensor as text: {@code [0.12, 3.4, ...]}, valid JSON apart from NaN and
 * Infinity.
 */
public final class TensorValues {

    private TensorValues() {}

    public static int elements(Tensor tensor) {
        return tensor.getData().remaining() / DataTypes.byteSize(tensor.getDtype());
    }

    /**
     * The first {@code limit} elements (all when negative), with "..." after them when there are
     * more.
     */
    public static String text(Tensor tensor, int limit) {
        List<Object> shown = values(tensor, limit);
        String text =
                shown.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", ""));
        return text + (shown.size() < elements(tensor) ? ", ...]" : "]");
    }

    /**
     * The first {@code limit} elements (all when negative): a Float, Integer, Long or Boolean each,
     * by the tensor's dtype.
     */
    public static List<Object> values(Tensor tensor, int limit) {
        ByteBuffer data = tensor.getData().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int size = DataTypes.byteSize(tensor.getDtype());
        int n = elements(tensor);
        int shown = limit < 0 ? n : Math.min(n, limit);
        List<Object> values = new ArrayList<>(shown);
        for (int i = 0; i < shown; i++) {
            int at = data.position() + i * size;
            values.add(
                    switch (tensor.getDtype()) {
                        case FLOAT32 -> data.getFloat(at);
                        case FLOAT16 -> halfToFloat(data.getShort(at));
                        case BFLOAT16 -> Float.intBitsToFloat(data.getShort(at) << 16);
                        case INT32 -> data.getInt(at);
                        case INT64 -> data.getLong(at);
                        case INT8 -> (int) data.get(at);
                        case UINT8 -> data.get(at) & 0xff;
                        case BOOL -> data.get(at) != 0;
                    });
        }
        return values;
    }

    /** IEEE half precision to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int sign = (half & 0x8000) << 16;
        int exponent = (half >>> 10) & 0x1f;
        int mantissa = half & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | mantissa << 13); // Inf or NaN
        }
        if (exponent == 0) { // zero or subnormal: mantissa x 2^-24
            float value = mantissa * 0x1p-24f;
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | (exponent - 15 + 127) << 23 | mantissa << 13);
    }
}
