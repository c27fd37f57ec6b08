package io.flinktrt.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds Avro binary by hand, for records Avro's own encoder would never write. */
public final class AvroBytes {

    private AvroBytes() {}

    /**
     * Avro's encoding of a long (and of an int, enum index, length or count): zig-zag, then 7 bits
     * a byte.
     */
    public static byte[] varint(long value) {
        long n = (value << 1) ^ (value >> 63);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
        return out.toByteArray();
    }

    /** A string: its UTF-8 length, then the bytes. */
    public static byte[] string(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        return concat(varint(utf8.length), utf8);
    }

    public static byte[] bytes(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    public static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, 64); i++) {
            s.append(String.format("%02x", bytes[i]));
        }
        return s.append(bytes.length > 64 ? "... (" + bytes.length + " bytes)" : "").toString();
    }
}
