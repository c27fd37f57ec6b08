package io.flinktrt.wire;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * With reject-non-finite, every NaN and Inf of every float type is refused wherever it sits: in
 * each lane of the 8-byte word the scan reads at once, in later words, and in the tail after the
 * last whole word; the largest finite values pass.
 */
class NonFiniteInputTest {

    /** Tensors of 1 to 12 elements: one, several words, and every tail length. */
    private static final int MOST_ELEMENTS = 12;

    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

    @ParameterizedTest
    @EnumSource(
            value = DataType.class,
            names = {"FLOAT32", "FLOAT16", "BFLOAT16"})
    void everyNonFinitePatternIsRejectedAtEveryPosition(DataType dtype) {
        for (int elements = 1; elements <= MOST_ELEMENTS; elements++) {
            RequestDecoder decoder = decoder(dtype, elements);
            for (long pattern : nonFinite(dtype)) {
                for (int at = 0; at < elements; at++) {
                    byte[] payload = request(dtype, elements, at, pattern);
                    int element = at;
                    assertThatThrownBy(() -> decoder.decode(payload))
                            .as("%s 0x%x at element %d of %d", dtype, pattern, at, elements)
                            .isInstanceOfSatisfying(
                                    RequestRejectedException.class,
                                    e -> {
                                        assertThat(e.code()).isEqualTo(ErrorCode.NON_FINITE_INPUT);
                                        assertThat(e.getMessage()).contains("element " + element);
                                    });
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = DataType.class,
            names = {"FLOAT32", "FLOAT16", "BFLOAT16"})
    void theLargestFiniteValuesPassAtEveryPosition(DataType dtype) {
        for (int elements = 1; elements <= MOST_ELEMENTS; elements++) {
            RequestDecoder decoder = decoder(dtype, elements);
            for (long pattern : largestFinite(dtype)) {
                for (int at = 0; at < elements; at++) {
                    try {
                        decoder.decode(request(dtype, elements, at, pattern));
                    } catch (RequestRejectedException e) {
                        fail(
                                "%s 0x%x at element %d of %d was rejected: %s",
                                dtype, pattern, at, elements, e.getMessage());
                    }
                }
            }
        }
    }

    /**
     * +Inf, -Inf, quiet and signalling NaNs of both signs, and NaNs with every mantissa bit set.
     */
    private static long[] nonFinite(DataType dtype) {
        return switch (dtype) {
            case FLOAT32 ->
                    new long[] {
                        0x7F800000L,
                        0xFF800000L,
                        0x7FC00000L,
                        0xFFC00000L,
                        0x7F800001L,
                        0xFF800001L,
                        0x7FFFFFFFL,
                        0xFFFFFFFFL
                    };
            case FLOAT16 ->
                    new long[] {0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0xFC01, 0x7FFF, 0xFFFF};
            default -> new long[] {0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F81, 0xFF81, 0x7FFF, 0xFFFF};
        };
    }

    /** The largest finite values of both signs, and values with all exponent bits but one set. */
    private static long[] largestFinite(DataType dtype) {
        return switch (dtype) {
            case FLOAT32 -> new long[] {0x7F7FFFFFL, 0xFF7FFFFFL, 0x7F000000L, 0x80000000L};
            case FLOAT16 -> new long[] {0x7BFF, 0xFBFF, 0x7800, 0x8000};
            default -> new long[] {0x7F7F, 0xFF7F, 0x7F00, 0x8000};
        };
    }

    private static RequestDecoder decoder(DataType dtype, int elements) {
        ModelSignature signature =
                new ModelSignature(
                        "m",
                        "sha",
                        List.of(new TensorSpec("x", dtype, new long[] {elements})),
                        List.of(new TensorSpec("y", DataType.FLOAT32, new long[] {1})),
                        8);
        return RequestDecoderTest.decoder(signature, RequestDecoderTest.LIMITS);
    }

    /** A request whose tensor holds ones, and {@code pattern} at element {@code at}. */
    private byte[] request(DataType dtype, int elements, int at, long pattern) {
        int size = DataTypes.byteSize(dtype);
        ByteBuffer data = ByteBuffer.allocate(elements * size).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < elements; i++) {
            long bits = i == at ? pattern : one(dtype);
            if (size == 4) {
                data.putInt((int) bits);
            } else {
                data.putShort((short) bits);
            }
        }
        return codec.encode(
                new InferenceRequest(
                        "r",
                        Map.of(),
                        List.of(new Tensor("x", dtype, List.of((long) elements), data.flip())),
                        null,
                        null));
    }

    private static long one(DataType dtype) {
        return switch (dtype) {
            case FLOAT32 -> Float.floatToIntBits(1f);
            case FLOAT16 -> 0x3C00;
            default -> 0x3F80;
        };
    }
}
