package io.flinktrt.operator;

import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the Avro binary form of an {@code InferenceRequest} without copying tensor data: each
 * tensor's bytes stay in the record's own array, and the batcher copies them once, straight into
 * the batch buffer. Every length is checked against the bytes left before it is used, so a hostile
 * record cannot make it allocate. Must follow InferenceRequest.avsc field by field (a test checks
 * it against Avro's own encoder).
 */
final class RequestParser {

    private static final DataType[] DATA_TYPES = DataType.values();

    /** One tensor of a request; its data is {@code length} bytes of the payload at {@code offset}. */
    record ParsedTensor(String name, DataType dtype, long[] shape, ByteBuffer data) {}

    /** A request whose tensors point into the payload. */
    record ParsedRequest(String id, Map<String, String> metadata, List<ParsedTensor> tensors) {}

    private final int maxTensors;
    private final long maxDims;
    private byte[] bytes;
    private int position;

    RequestParser(int maxTensors, long maxDims) {
        this.maxTensors = maxTensors;
        this.maxDims = maxDims;
    }

    ParsedRequest parse(byte[] payload) throws RequestRejectedException {
        bytes = payload;
        position = 0;
        String id = readString();
        Map<String, String> metadata = readMetadata();
        List<ParsedTensor> tensors = new ArrayList<>();
        for (long block = readBlockCount(); block != 0; block = readBlockCount()) {
            for (long i = 0; i < block; i++) {
                if (tensors.size() >= maxTensors) {
                    throw new RequestRejectedException(ErrorCode.REQUEST_TOO_LARGE,
                            "Request carries more than " + maxTensors + " tensors.");
                }
                tensors.add(readTensor());
            }
        }
        if (position != bytes.length) {
            throw undecodable("it has " + (bytes.length - position)
                    + " bytes after the end of an InferenceRequest: it was written with another schema");
        }
        return new ParsedRequest(id, metadata, tensors);
    }

    private ParsedTensor readTensor() throws RequestRejectedException {
        String name = readString();
        long dtype = readLong();
        if (dtype < 0 || dtype >= DATA_TYPES.length) {
            throw undecodable("tensor '" + name + "' has data type index " + dtype);
        }
        List<Long> dims = new ArrayList<>();
        for (long block = readBlockCount(); block != 0; block = readBlockCount()) {
            for (long i = 0; i < block; i++) {
                if (dims.size() >= maxDims) {
                    throw new RequestRejectedException(ErrorCode.SHAPE_NOT_ACCEPTED,
                            "Tensor '" + name + "' has more than " + maxDims + " dimensions.");
                }
                dims.add(readLong());
            }
        }
        int length = readLength();
        ByteBuffer data = ByteBuffer.wrap(bytes, position, length).slice();
        position += length;
        return new ParsedTensor(name, DATA_TYPES[(int) dtype], dims.stream().mapToLong(Long::longValue).toArray(), data);
    }

    private Map<String, String> readMetadata() throws RequestRejectedException {
        Map<String, String> metadata = new HashMap<>();
        for (long block = readBlockCount(); block != 0; block = readBlockCount()) {
            for (long i = 0; i < block; i++) {
                metadata.put(readString(), readString());
            }
        }
        return metadata;
    }

    /** Item count of the next array or map block; a negative count is followed by the block's size. */
    private long readBlockCount() throws RequestRejectedException {
        long count = readLong();
        if (count < 0) {
            readLong(); // block size in bytes, only useful for skipping
            count = -count;
        }
        if (count > bytes.length - position) { // every item takes at least one byte
            throw undecodable("a block claims " + count + " items with " + (bytes.length - position) + " bytes left");
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
            throw undecodable("a length of " + length + " with " + (bytes.length - position) + " bytes left");
        }
        return (int) length;
    }

    /** A zig-zag varint, as Avro writes int, long, enum and every count. */
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
        return new RequestRejectedException(ErrorCode.UNDECODABLE, "Record is not an Avro InferenceRequest: " + why + ".");
    }
}
