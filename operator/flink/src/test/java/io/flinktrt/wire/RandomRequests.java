package io.flinktrt.wire;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;

import org.apache.flink.annotation.Internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Requests with random inputs for a model: Gaussian floats, integers in [0, intRange) (so token ids
 * stay inside a small vocabulary), random booleans. For demos, tests and benchmarks.
 */
@Internal
public final class RandomRequests {

    private final ModelSignature signature;
    private final int intRange;
    private final SplittableRandom random;

    public RandomRequests(ModelSignature signature, int intRange, long seed) {
        this.signature = signature;
        this.intRange = intRange;
        this.random = new SplittableRandom(seed);
    }

    public InferenceRequest next(String id) {
        List<Tensor> tensors = new ArrayList<>();
        for (TensorSpec spec : signature.inputs()) {
            tensors.add(
                    new Tensor(
                            spec.name(),
                            spec.dtype(),
                            Arrays.stream(spec.batchShape(1)).boxed().toList(),
                            randomData(spec)));
        }
        return new InferenceRequest(id, Map.of(), tensors, null, null);
    }

    private ByteBuffer randomData(TensorSpec spec) {
        int elements = Math.toIntExact(spec.sampleElements());
        ByteBuffer data =
                ByteBuffer.allocate(elements * DataTypes.byteSize(spec.dtype()))
                        .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < elements; i++) {
            switch (spec.dtype()) {
                case FLOAT32 -> data.putFloat((float) gaussian());
                case FLOAT16 -> data.putShort(toHalf((float) gaussian()));
                case BFLOAT16 ->
                        data.putShort((short) (Float.floatToIntBits((float) gaussian()) >>> 16));
                case INT32 -> data.putInt(random.nextInt(intRange));
                case INT64 -> data.putLong(random.nextInt(intRange));
                case INT8 -> data.put((byte) random.nextInt(Math.min(intRange, 128)));
                case UINT8 -> data.put((byte) random.nextInt(Math.min(intRange, 256)));
                case BOOL -> data.put((byte) random.nextInt(2));
            }
        }
        return data.flip();
    }

    /**
     * IEEE half precision, truncated; tiny values flush to zero (Java 17 has no
     * Float.floatToFloat16).
     */
    private static short toHalf(float value) {
        int bits = Float.floatToIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        if (exponent <= 0) {
            return (short) sign;
        }
        if (exponent >= 31) {
            return (short) (sign | 0x7c00);
        }
        return (short) (sign | exponent << 10 | (bits & 0x7fffff) >> 13);
    }

    private double gaussian() {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
