package io.flinktrt.wire;

import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the Avro binary form of an {@code InferenceRequest} without copying tensor data: each
 * tensor's bytes stay in the record's own array, and the batcher copies them once, straight into
 * the batch buffer. Every length is checked against the bytes left before it is used, so a hostile
 * record cannot make it allocate. Must follow InferenceRequest.avsc field by field, and refuse
 * exactly what Avro's own reader refuses (a property test checks both against Avro); a record is
 * read to its end before the tensor and dimension limits apply, so an undecodable record is called
 * so, and a decodable one keeps its id.
 */
final class RequestParser {

    private static final DataType[] DATA_TYPES = DataType.values();

    /**
     * One tensor of a request; its data is {@code length} bytes of the payload at {@code offset}.
     */
    record ParsedTensor(String name, DataType dtype, long[] shape, ByteBuffer data) {}

    /**
     * A request whose tensors point into the payload; {@code text} is the text field's UTF-8 bytes
     * (not yet decoded: the text path decodes them strictly), or null; {@code image} the image
     * field's encoded bytes, or null.
     */
    record ParsedRequest(
            String id,
            Map<String, String> metadata,
            List<ParsedTensor> tensors,
            ByteBuffer text,
            ByteBuffer image) {}

    private final int maxTensors;
    private final int maxDims;
    private byte[] bytes;
    private int position;

    /** The first tensor with more than maxDims dimensions, or null. */
    private String tooManyDims;

    RequestParser(int maxTensors, int maxDims) {
        this.maxTensors = maxTensors;
        this.maxDims = maxDims;
    }

    ParsedRequest parse(byte[] payload) throws RequestRejectedException {
        bytes = payload;
        position = 0;
        tooManyDims = null;
        String id = readString();
        Map<String, String> metadata = readMetadata();
        List<ParsedTensor> tensors = new ArrayList<>();
        long count = 0;
        for (long block = readBlockCount(true); block != 0; block = readBlockCount(false)) {
            for (long i = 0; i < block; i++, count++) {
                if (count < maxTensors) {
                    tensors.add(readTensor());
                } else {
                    // read to the end all the same: only a whole record is known to decode
                    skipTensor();
                }
            }
        }
        ByteBuffer text = readOptionalBytes("text");
        ByteBuffer image = readOptionalBytes("image");
        if (position != bytes.length) {
            throw undecodable(
                    "it has "
                            + (bytes.length - position)
                            + " bytes after the end of an InferenceRequest: it was written with another schema");
        }
        if (count > maxTensors) {
            throw new RequestRejectedException(
                            ErrorCode.REQUEST_TOO_LARGE,
                            "Request carries "
                                    + count
                                    + " tensors; at most "
                                    + maxTensors
                                    + " are allowed.")
                    .withRequestId(id);
        }
        if (tooManyDims != null) {
            throw new RequestRejectedException(
                            ErrorCode.SHAPE_NOT_ACCEPTED,
                            "Tensor '"
                                    + tooManyDims
                                    + "' has more than "
                                    + maxDims
                                    + " dimensions.")
                    .withRequestId(id);
        }
        return new ParsedRequest(id, metadata, tensors, text, image);
    }

    /**
     * An optional field of the text or image kind (a union of null and string or bytes, read in
     * place), absent in records written before it existed: those end before it and decode as
     * before.
     */
    private ByteBuffer readOptionalBytes(String field) throws RequestRejectedException {
        if (position == bytes.length) {
            return null;
        }
        int branch = readInt();
        if (branch == 0) {
            return null;
        }
        if (branch != 1) {
            throw undecodable("the " + field + " field has union branch " + branch);
        }
        int length = readLength();
        ByteBuffer value = ByteBuffer.wrap(bytes, position, length).slice();
        position += length;
        return value;
    }

    private ParsedTensor readTensor() throws RequestRejectedException {
        String name = readString();
        DataType dtype = readDataType(name);
        long[] dims = new long[Math.min(maxDims, 8)];
        int rank = 0;
        for (long block = readBlockCount(true); block != 0; block = readBlockCount(false)) {
            for (long i = 0; i < block; i++) {
                long dim = readLong();
                if (rank < maxDims) {
                    if (rank == dims.length) {
                        dims = Arrays.copyOf(dims, Math.min(maxDims, 2 * dims.length));
                    }
                    dims[rank++] = dim;
                } else if (tooManyDims == null) {
                    tooManyDims = name;
                }
            }
        }
        int length = readLength();
        ByteBuffer data = ByteBuffer.wrap(bytes, position, length).slice();
        position += length;
        return new ParsedTensor(name, dtype, Arrays.copyOf(dims, rank), data);
    }

    private void skipTensor() throws RequestRejectedException {
        skipBytes(); // name
        readDataType("");
        for (long block = readBlockCount(true); block != 0; block = readBlockCount(false)) {
            for (long i = 0; i < block; i++) {
                readLong();
            }
        }
        skipBytes(); // data
    }

    private void skipBytes() throws RequestRejectedException {
        int length = readLength();
        position += length;
    }

    /** An enum index is an Avro int, as Avro's reader reads it. */
    private DataType readDataType(String tensor) throws RequestRejectedException {
        int index = readInt();
        if (index < 0 || index >= DATA_TYPES.length) {
            throw undecodable("tensor '" + tensor + "' has data type index " + index);
        }
        return DATA_TYPES[index];
    }

    /** An Avro int (an enum or union index): at most 5 bytes, bits above 32 dropped. */
    private int readInt() throws RequestRejectedException {
        int raw = 0;
        for (int shift = 0; ; shift += 7) {
            if (position >= bytes.length) {
                throw undecodable("it ends in the middle of a number");
            }
            byte b = bytes[position++];
            raw |= (b & 0x7F) << shift;
            if (b >= 0) {
                break;
            }
            if (shift == 28) {
                throw undecodable("an int is longer than 5 bytes");
            }
        }
        return (raw >>> 1) ^ -(raw & 1);
    }

    private Map<String, String> readMetadata() throws RequestRejectedException {
        Map<String, String> metadata = new HashMap<>();
        for (long block = readBlockCount(true); block != 0; block = readBlockCount(false)) {
            for (long i = 0; i < block; i++) {
                metadata.put(readString(), readString());
            }
        }
        return metadata;
    }

    /**
     * Item count of the next array or map block; a negative count is followed by the block's size.
     * A count of Long.MIN_VALUE stays negative when negated: Avro's reader takes it as the end of
     * the array or map in its first block (the end marker is not read) and refuses it in a later
     * one, and so does this.
     */
    private long readBlockCount(boolean first) throws RequestRejectedException {
        long count = readLong();
        if (count < 0) {
            readLong(); // block size in bytes, only useful for skipping
            count = -count;
        }
        if (count < 0 && first) {
            return 0;
        }
        if (count < 0 || count > bytes.length - position) { // every item takes at least a byte
            throw undecodable(
                    "a block claims "
                            + count
                            + " items with "
                            + (bytes.length - position)
                            + " bytes left");
        }
        return count;
    }

    private String readString() throws RequestRejectedException {
        int length = readLength();
        String value = new String(bytes, position, length, StandardCharsets.UTF_8);
        position += length;
        return value;
    }

    private int readLength() throws RequestRejectedException {
        long length = readLong();
        if (length < 0 || length > bytes.length - position) {
            throw undecodable(
                    "a length of " + length + " with " + (bytes.length - position) + " bytes left");
        }
        return (int) length;
    }

    /**
     * A zig-zag varint, as Avro writes long, and every length and count: at most 10 bytes, of the
     * tenth only its lowest bit counts (Avro's reader drops the others too).
     */
    private long readLong() throws RequestRejectedException {
        long raw = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= bytes.length) {
                throw undecodable("it ends in the middle of a number");
            }
            byte b = bytes[position++];
            raw |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw undecodable("a number is longer than 10 bytes");
    }

    private static RequestRejectedException undecodable(String why) {
        return new RequestRejectedException(
                ErrorCode.UNDECODABLE, "Record is not an Avro InferenceRequest: " + why + ".");
    }
}
