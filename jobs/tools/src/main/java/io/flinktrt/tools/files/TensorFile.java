package io.flinktrt.tools.files;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The samples of one model input in a file, one request per row: a {@code .npy} array whose first
 * axis is the sample axis, or raw little-endian bytes of samples of a given shape, back to back.
 * Rows are read when asked for, so a file may be larger than the heap.
 */
public final class TensorFile implements AutoCloseable {

    private final String name;
    private final DataType dtype;
    private final long[] sampleShape;
    private final List<Long> requestShape;
    private final int sampleBytes;
    private final long rows;
    private final long dataOffset;
    private final Path path;
    private final FileChannel channel;

    private TensorFile(
            String name,
            DataType dtype,
            long[] sampleShape,
            long rows,
            long dataOffset,
            Path path,
            FileChannel channel) {
        this.name = name;
        this.dtype = dtype;
        this.sampleShape = sampleShape;
        this.sampleBytes = sampleBytes(dtype, sampleShape);
        this.rows = rows;
        this.dataOffset = dataOffset;
        this.path = path;
        this.channel = channel;
        long[] shape =
                new long
                        [sampleShape.length
                                + 1]; // a leading batch dimension of 1, as RandomRequests sends
        shape[0] = 1;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        this.requestShape = Arrays.stream(shape).boxed().toList();
    }

    /** An input from {@code np.save(file, array)}: array[i] is request i. */
    public static TensorFile npy(String name, Path file) throws IOException {
        FileChannel channel = FileChannel.open(file);
        try {
            Npy.Header header = Npy.readHeader(file, channel);
            if (header.shape().length == 0) {
                throw new IOException(
                        file + " holds a scalar; its first axis must be the sample axis.");
            }
            long[] sampleShape = Arrays.copyOfRange(header.shape(), 1, header.shape().length);
            TensorFile tensors =
                    new TensorFile(
                            name,
                            header.dtype(),
                            sampleShape,
                            header.shape()[0],
                            header.dataOffset(),
                            file,
                            channel);
            tensors.checkLength(header.shape()[0] * tensors.sampleBytes);
            return tensors;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * An input from raw little-endian samples of {@code sampleShape}; the file size gives the
     * count.
     */
    public static TensorFile raw(String name, Path file, DataType dtype, long[] sampleShape)
            throws IOException {
        FileChannel channel = FileChannel.open(file);
        try {
            long size = channel.size();
            int bytes = sampleBytes(dtype, sampleShape);
            if (size % bytes != 0) {
                throw new IOException(
                        file
                                + " has "
                                + size
                                + " bytes, not a whole number of "
                                + dtype
                                + " samples of shape "
                                + Arrays.toString(sampleShape)
                                + " ("
                                + bytes
                                + " bytes each).");
            }
            return new TensorFile(name, dtype, sampleShape, size / bytes, 0, file, channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static int sampleBytes(DataType dtype, long[] sampleShape) {
        return Math.toIntExact(
                Arrays.stream(sampleShape).reduce(1, Math::multiplyExact)
                        * DataTypes.byteSize(dtype));
    }

    private void checkLength(long dataBytes) throws IOException {
        if (channel.size() < dataOffset + dataBytes) {
            throw new IOException(
                    path + " is truncated: its header promises " + dataBytes + " bytes of data.");
        }
    }

    public String name() {
        return name;
    }

    public long rows() {
        return rows;
    }

    /** Row {@code index} as a request tensor of shape [1, sample shape...]. */
    public Tensor row(long index) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(sampleBytes);
        long position = dataOffset + index * sampleBytes;
        while (data.hasRemaining()) {
            if (channel.read(data, position + data.position()) < 0) {
                throw new IOException(path + " ended at row " + index);
            }
        }
        return new Tensor(name, dtype, requestShape, data.flip());
    }

    @Override
    public String toString() {
        return name + "=" + path + " (" + rows + " x " + dtype + Arrays.toString(sampleShape) + ")";
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
