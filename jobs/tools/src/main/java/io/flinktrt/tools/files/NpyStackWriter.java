package io.flinktrt.tools.files;

import io.flinktrt.schema.DataType;
import io.flinktrt.schema.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * Stacks one output tensor of many results into a {@code .npy} file, in the order they are added:
 * [rows, sample shape...]. The header is rewritten with the final row count on close.
 */
public final class NpyStackWriter implements AutoCloseable {

    private final Path file;
    private final String name;
    private final DataType dtype;
    private final long[] sampleShape;
    private final FileChannel channel;
    private long rows;

    /** Takes dtype and shape from the first tensor; every later one must match it. */
    public NpyStackWriter(Path file, Tensor first) throws IOException {
        this.file = file;
        this.name = first.getName();
        this.dtype = first.getDtype();
        this.sampleShape = sampleShape(first.getShape());
        this.channel =
                FileChannel.open(
                        file,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
        channel.write(ByteBuffer.wrap(Npy.header(dtype, shape())), 0);
    }

    /** A result's shape is [1, sample shape...] or the sample shape alone. */
    private long[] sampleShape(List<Long> shape) {
        int skip = shape.isEmpty() || shape.get(0) != 1 ? 0 : 1;
        return shape.subList(skip, shape.size()).stream().mapToLong(Long::longValue).toArray();
    }

    public void add(Tensor tensor) throws IOException {
        if (tensor.getDtype() != dtype
                || !Arrays.equals(sampleShape(tensor.getShape()), sampleShape)) {
            throw new IOException(
                    "Output '"
                            + name
                            + "' changed from "
                            + dtype
                            + Arrays.toString(sampleShape)
                            + " to "
                            + tensor.getDtype()
                            + tensor.getShape()
                            + "; "
                            + file
                            + " can hold one shape only.");
        }
        ByteBuffer data = tensor.getData().duplicate();
        while (data.hasRemaining()) {
            channel.write(data, channel.size());
        }
        rows++;
    }

    public String describe() {
        return file + " " + dtype + Arrays.toString(shape());
    }

    private long[] shape() {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = rows;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return shape;
    }

    @Override
    public void close() throws IOException {
        try (channel) {
            channel.write(ByteBuffer.wrap(Npy.header(dtype, shape())), 0);
        }
    }
}
