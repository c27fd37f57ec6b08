package io.flinktrt.backend;

import io.flinktrt.schema.DataType;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.Arrays;

/**
 * An input or output of a model, per sample: {@code sampleShape} leaves out the batch dimension.
 * Every sample dimension is fixed; the batch dimension is the only one that varies.
 */
@PublicEvolving
public record TensorSpec(String name, DataType dtype, long[] sampleShape) implements Serializable {

    public long sampleElements() {
        long n = 1;
        for (long d : sampleShape) {
            n *= d;
        }
        return n;
    }

    public int sampleBytes() {
        return Math.toIntExact(sampleElements() * DataTypes.byteSize(dtype));
    }

    /** The shape of a batch of {@code rows} samples. */
    public long[] batchShape(int rows) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = rows;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return shape;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(sampleShape, t.sampleShape);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(sampleShape);
    }

    @Override
    public String toString() {
        return name + ":" + dtype + Arrays.toString(batchShape(-1)).replace("-1", "N");
    }
}
