package io.flinktrt.onnx;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One protocol buffers message as its fields in wire order, read and written without a schema.
 * Fields nobody asks about are written back byte for byte, so a model keeps everything this project
 * does not know about; length-delimited fields are slices of the parsed bytes (a 100 MB initializer
 * is not copied until the message is written).
 */
@Internal
public final class ProtoMessage {

    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    /**
     * One field: a varint or fixed value, or a slice {@code [offset, offset + length)} of {@code
     * bytes}.
     */
    record Field(int number, int wireType, long value, byte[] bytes, int offset, int length) {

        static Field ofBytes(int number, byte[] bytes) {
            return new Field(number, LENGTH_DELIMITED, 0, bytes, 0, bytes.length);
        }

        String string() {
            return new String(bytes, offset, length, StandardCharsets.UTF_8);
        }

        ProtoMessage message() {
            return ProtoMessage.parse(bytes, offset, length);
        }
    }

    private final List<Field> fields;

    public ProtoMessage() {
        this(new ArrayList<>());
    }

    private ProtoMessage(List<Field> fields) {
        this.fields = fields;
    }

    /**
     * @throws IllegalArgumentException if the bytes are not a protocol buffers message
     */
    public static ProtoMessage parse(byte[] bytes) {
        return parse(bytes, 0, bytes.length);
    }

    static ProtoMessage parse(byte[] bytes, int offset, int length) {
        List<Field> fields = new ArrayList<>();
        int[] at = {offset};
        int end = offset + length;
        while (at[0] < end) {
            long key = readVarint(bytes, at, end);
            int number = (int) (key >>> 3);
            int wireType = (int) (key & 7);
            if (number <= 0) {
                throw new IllegalArgumentException("field number " + number + " at byte " + at[0]);
            }
            switch (wireType) {
                case VARINT ->
                        fields.add(
                                new Field(
                                        number, wireType, readVarint(bytes, at, end), null, 0, 0));
                case FIXED64, FIXED32 -> {
                    int size = wireType == FIXED64 ? 8 : 4;
                    require(at[0] + size <= end, "fixed field past the end");
                    long value = 0;
                    for (int i = size - 1; i >= 0; i--) {
                        value = (value << 8) | (bytes[at[0] + i] & 0xff);
                    }
                    fields.add(new Field(number, wireType, value, null, 0, 0));
                    at[0] += size;
                }
                case LENGTH_DELIMITED -> {
                    long size = readVarint(bytes, at, end);
                    require(
                            size >= 0 && at[0] + size <= end,
                            "length-delimited field past the end");
                    fields.add(new Field(number, wireType, 0, bytes, at[0], (int) size));
                    at[0] += (int) size;
                }
                default ->
                        throw new IllegalArgumentException(
                                "unsupported wire type " + wireType + " of field " + number);
            }
        }
        return new ProtoMessage(fields);
    }

    // ---- reading

    List<Field> fields(int number) {
        return fields.stream().filter(f -> f.number() == number).toList();
    }

    public String string(int number) {
        return last(number).map(Field::string).orElse("");
    }

    public List<String> strings(int number) {
        return fields(number).stream().map(Field::string).toList();
    }

    public long varint(int number, long orElse) {
        return last(number).map(Field::value).orElse(orElse);
    }

    public Optional<ProtoMessage> message(int number) {
        return last(number).map(Field::message);
    }

    public List<ProtoMessage> messages(int number) {
        return fields(number).stream().map(Field::message).toList();
    }

    private Optional<Field> last(
            int number) { // protobuf: the last occurrence of a singular field wins
        for (int i = fields.size() - 1; i >= 0; i--) {
            if (fields.get(i).number() == number) {
                return Optional.of(fields.get(i));
            }
        }
        return Optional.empty();
    }

    // ---- writing

    public ProtoMessage addVarint(int number, long value) {
        fields.add(new Field(number, VARINT, value, null, 0, 0));
        return this;
    }

    public ProtoMessage addString(int number, String value) {
        return addBytes(number, value.getBytes(StandardCharsets.UTF_8));
    }

    public ProtoMessage addBytes(int number, byte[] value) {
        fields.add(Field.ofBytes(number, value));
        return this;
    }

    public ProtoMessage addMessage(int number, ProtoMessage value) {
        return addBytes(number, value.toByteArray());
    }

    /**
     * Replaces every occurrence of a repeated string field, where its first occurrence was (or at
     * the end).
     */
    public ProtoMessage setStrings(int number, List<String> values) {
        return replace(
                number,
                values.stream()
                        .map(v -> Field.ofBytes(number, v.getBytes(StandardCharsets.UTF_8)))
                        .toList());
    }

    /**
     * Replaces every occurrence of a repeated message field, where its first occurrence was (or at
     * the end).
     */
    public ProtoMessage setMessages(int number, List<ProtoMessage> values) {
        return replace(
                number, values.stream().map(v -> Field.ofBytes(number, v.toByteArray())).toList());
    }

    public ProtoMessage setString(int number, String value) {
        return setStrings(number, List.of(value));
    }

    public ProtoMessage setMessage(int number, ProtoMessage value) {
        return setMessages(number, List.of(value));
    }

    public ProtoMessage remove(int number) {
        return replace(number, List.of());
    }

    private ProtoMessage replace(int number, List<Field> replacement) {
        int first = -1;
        List<Field> kept = new ArrayList<>(fields.size());
        for (Field field : fields) {
            if (field.number() == number) {
                if (first < 0) {
                    first = kept.size();
                }
            } else {
                kept.add(field);
            }
        }
        kept.addAll(first < 0 ? kept.size() : first, replacement);
        fields.clear();
        fields.addAll(kept);
        return this;
    }

    public byte[] toByteArray() {
        long size = 0;
        for (Field field : fields) {
            size +=
                    varintSize(((long) field.number() << 3) | field.wireType())
                            + switch (field.wireType()) {
                                case VARINT -> varintSize(field.value());
                                case FIXED64 -> 8;
                                case FIXED32 -> 4;
                                default -> varintSize(field.length()) + field.length();
                            };
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "message of " + size + " bytes is over protobuf's 2 GB limit");
        }
        byte[] out = new byte[(int) size];
        int at = 0;
        for (Field field : fields) {
            at = writeVarint(out, at, ((long) field.number() << 3) | field.wireType());
            switch (field.wireType()) {
                case VARINT -> at = writeVarint(out, at, field.value());
                case FIXED64, FIXED32 -> {
                    int width = field.wireType() == FIXED64 ? 8 : 4;
                    for (int i = 0; i < width; i++) {
                        out[at++] = (byte) (field.value() >>> (8 * i));
                    }
                }
                default -> {
                    at = writeVarint(out, at, field.length());
                    System.arraycopy(field.bytes(), field.offset(), out, at, field.length());
                    at += field.length();
                }
            }
        }
        return out;
    }

    private static long readVarint(byte[] bytes, int[] at, int end) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            require(at[0] < end, "varint past the end");
            byte b = bytes[at[0]++];
            value |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return value;
            }
        }
        throw new IllegalArgumentException("varint longer than 10 bytes");
    }

    private static int varintSize(long value) {
        int size = 1;
        while ((value & ~0x7fL) != 0) {
            value >>>= 7;
            size++;
        }
        return size;
    }

    private static int writeVarint(byte[] out, int at, long value) {
        while ((value & ~0x7fL) != 0) {
            out[at++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out[at++] = (byte) value;
        return at;
    }

    private static void require(boolean condition, String problem) {
        if (!condition) {
            throw new IllegalArgumentException("not a protocol buffers message: " + problem);
        }
    }
}
