package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.DeviceImages;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The JPEGs handed over for one image input of a {@link HostBuffers} set, by row, until the set is
 * released; what the {@link Lane} decodes on the device instead of copying the rows' pixels.
 * Written by the copy threads (a row each), read by the lane's thread after the batch was handed
 * over, failures read by the threads reading rows after the batch ran.
 */
final class EncodedRows implements DeviceImages {

    final TensorSpec spec;
    final int width;
    final int height;
    final boolean channelsFirst;
    private final ByteBuffer[] jpegs;
    private final int[] orientations;
    private final String[] failures;
    private volatile float[] mean;
    private volatile float[] std;

    private EncodedRows(TensorSpec spec, int maxBatch) {
        this.spec = spec;
        long[] shape = spec.sampleShape();
        this.channelsFirst = spec.dtype() == DataType.FLOAT32;
        this.height = (int) (channelsFirst ? shape[1] : shape[0]);
        this.width = (int) (channelsFirst ? shape[2] : shape[1]);
        this.jpegs = new ByteBuffer[maxBatch];
        this.orientations = new int[maxBatch];
        this.failures = new String[maxBatch];
    }

    /** For an input of an image's shape (uint8 [H, W, 3] or float32 [3, H, W]); else null. */
    static EncodedRows forInput(TensorSpec spec, int maxBatch) {
        long[] shape = spec.sampleShape();
        boolean image =
                shape.length == 3
                        && ((spec.dtype() == DataType.UINT8 && shape[2] == 3)
                                || (spec.dtype() == DataType.FLOAT32 && shape[0] == 3));
        return image ? new EncodedRows(spec, maxBatch) : null;
    }

    /** The float input's scaling; every row of a set gets the same, so it is copied once. */
    void scaling(float[] mean, float[] std) {
        if (!Arrays.equals(this.mean, mean) || !Arrays.equals(this.std, std)) {
            this.mean = mean.clone();
            this.std = std.clone();
        }
    }

    float[] mean() {
        return mean;
    }

    float[] std() {
        return std;
    }

    @Override
    public void put(int row, ByteBuffer jpeg, int orientation) {
        jpegs[row] = jpeg.duplicate();
        orientations[row] = orientation;
        failures[row] = null;
    }

    @Override
    public String failure(int row) {
        return failures[row];
    }

    /** Row {@code row}'s JPEG, or null where its pixels were written instead. */
    ByteBuffer jpeg(int row) {
        return jpegs[row];
    }

    /** Row {@code row}'s EXIF orientation: 1 stored upright, 2 to 8 to be turned. */
    int orientation(int row) {
        return orientations[row];
    }

    /** Whether any of rows {@code from} to {@code from + count} has a JPEG. */
    boolean any(int from, int count) {
        for (int r = from; r < from + count; r++) {
            if (jpegs[r] != null) {
                return true;
            }
        }
        return false;
    }

    void fail(int row, String message) {
        failures[row] = message;
    }

    /** On release: the next batch in this set starts with no JPEGs. */
    void clear() {
        Arrays.fill(jpegs, null);
        Arrays.fill(failures, null);
    }
}
