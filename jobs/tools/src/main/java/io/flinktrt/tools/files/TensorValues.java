package io.flinktrt.tools.files;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.schema.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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
        ByteBuffer data = tensor.getData().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int size = DataTypes.byteSize(tensor.getDtype());
        int n = elements(tensor);
        int shown = limit < 0 ? n : Math.min(n, limit);
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < shown; i++) {
            int at = data.position() + i * size;
            text.append(i == 0 ? "" : ", ")
                    .append(
                            switch (tensor.getDtype()) {
                                case FLOAT32 -> Float.toString(data.getFloat(at));
                                case FLOAT16 -> Float.toString(halfToFloat(data.getShort(at)));
                                case BFLOAT16 ->
                                        Float.toString(
                                                Float.intBitsToFloat(data.getShort(at) << 16));
                                case INT32 -> Integer.toString(data.getInt(at));
                                case INT64 -> Long.toString(data.getLong(at));
                                case INT8 -> Byte.toString(data.get(at));
                                case UINT8 -> Integer.toString(data.get(at) & 0xff);
                                case BOOL -> data.get(at) != 0 ? "true" : "false";
                            });
        }
        return text.append(shown < n ? ", ...]" : "]").toString();
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
