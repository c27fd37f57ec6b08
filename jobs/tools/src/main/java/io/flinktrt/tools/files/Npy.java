package io.flinktrt.tools.files;

import io.flinktrt.schema.DataType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * NumPy's {@code .npy} format, versions 1 to 3, for the little-endian, C-order arrays of the dtypes
 * a request can carry. numpy writes them with {@code np.save}; see
 * numpy.org/doc/stable/reference/generated/numpy.lib.format.html.
 */
public final class Npy {

    /** What the header says: element type, shape, and where the data starts. */
    public record Header(DataType dtype, long[] shape, long dataOffset) {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** numpy's dtype strings; '|' is "byte order does not apply". */
    private static final Map<String, DataType> DTYPES =
            Map.of(
                    "<f4",
                    DataType.FLOAT32,
                    "<f2",
                    DataType.FLOAT16,
                    "<i4",
                    DataType.INT32,
                    "<i8",
                    DataType.INT64,
                    "|i1",
                    DataType.INT8,
                    "|u1",
                    DataType.UINT8,
                    "|b1",
                    DataType.BOOL);

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /**
     * Header length written by {@link #header}: fixed, so a writer can rewrite it once the row
     * count is known.
     */
    static final int WRITTEN_HEADER_BYTES = 128;

    private Npy() {}

    public static Header readHeader(Path file, FileChannel channel) throws IOException {
        ByteBuffer preamble = read(channel, 0, 10, file);
        byte[] magic = new byte[6];
        preamble.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException(
                    file + " is not a .npy file (no \\x93NUMPY magic); save it with numpy.save.");
        }
        int major = preamble.get() & 0xff;
        preamble.get(); // minor version: no difference we care about
        long headerLength;
        long headerStart;
        if (major == 1) {
            headerLength = preamble.getShort() & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLength = read(channel, 8, 4, file).getInt() & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new IOException(
                    file + " is .npy version " + major + "; versions 1, 2 and 3 are read.");
        }
        String header =
                StandardCharsets.UTF_8
                        .decode(read(channel, headerStart, Math.toIntExact(headerLength), file))
                        .toString();
        if (find(FORTRAN, header, file).equals("True")) {
            throw new IOException(
                    file + " is in Fortran order; save numpy.ascontiguousarray(array) instead.");
        }
        return new Header(
                dtype(file, find(DESCR, header, file)),
                shape(file, find(SHAPE, header, file)),
                headerStart + headerLength);
    }

    private static DataType dtype(Path file, String descr) throws IOException {
        DataType dtype = DTYPES.get(descr);
        if (dtype == null) {
            throw new IOException(
                    file
                            + " holds dtype '"
                            + descr
                            + "'; requests take "
                            + DTYPES.keySet()
                            + " (little-endian): convert with array.astype(...).");
        }
        return dtype;
    }

    private static String find(Pattern pattern, String header, Path file) throws IOException {
        Matcher matcher = pattern.matcher(header);
        if (!matcher.find()) {
            throw new IOException(
                    file
                            + " has a .npy header without "
                            + pattern.pattern()
                            + ": "
                            + header.trim());
        }
        return matcher.group(1);
    }

    private static long[] shape(Path file, String dims) throws IOException {
        try {
            return Arrays.stream(dims.split(","))
                    .map(String::trim)
                    .filter(d -> !d.isEmpty())
                    .mapToLong(Long::parseLong)
                    .toArray();
        } catch (NumberFormatException e) {
            throw new IOException(file + " has an unreadable shape (" + dims + ")");
        }
    }

    private static ByteBuffer read(FileChannel channel, long position, int length, Path file)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException(file + " ends inside its .npy header");
            }
        }
        return buffer.flip();
    }

    /**
     * A version 1 header of exactly {@link #WRITTEN_HEADER_BYTES} bytes, padded with spaces as
     * numpy does.
     */
    public static byte[] header(DataType dtype, long[] shape) {
        String descr =
                DTYPES.entrySet().stream()
                        .filter(e -> e.getValue() == dtype)
                        .map(Map.Entry::getKey)
                        .findFirst()
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                dtype + " has no .npy dtype here"));
        String dims =
                Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        String dict =
                "{'descr': '"
                        + descr
                        + "', 'fortran_order': False, 'shape': ("
                        + dims
                        + (shape.length == 1 ? "," : "")
                        + "), }";
        int textBytes = WRITTEN_HEADER_BYTES - 10;
        if (dict.length() + 1 > textBytes) {
            throw new IllegalArgumentException(
                    "Shape " + Arrays.toString(shape) + " does not fit a .npy header");
        }
        ByteBuffer header =
                ByteBuffer.allocate(WRITTEN_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) textBytes);
        header.put(
                (dict + " ".repeat(textBytes - dict.length() - 1) + "\n")
                        .getBytes(StandardCharsets.US_ASCII));
        return header.array();
    }
}
