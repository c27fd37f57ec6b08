package io.flinktrt.wire;

import org.apache.flink.annotation.Internal;

import java.util.Map;

/** Sizes of values in Avro binary, computed without encoding them. */
@Internal
public final class AvroSizes {

    private AvroSizes() {}

    /** Bytes of an int or long: zig-zag, 7 bits a byte. */
    public static int ofLong(long value) {
        long n = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((n & ~0x7FL) != 0) {
            n >>>= 7;
            bytes++;
        }
        return bytes;
    }

    /** Bytes of a string: its length, then its UTF-8 bytes. */
    public static long ofString(String value) {
        long utf8 = utf8Length(value);
        return ofLong(utf8) + utf8;
    }

    /** Bytes of a map of strings as one block: count, entries, and the empty block that ends it. */
    public static long ofStringMap(Map<String, String> map) {
        if (map.isEmpty()) {
            return 1;
        }
        long bytes = ofLong(map.size()) + 1;
        for (Map.Entry<String, String> entry : map.entrySet()) {
            bytes += ofString(entry.getKey()) + ofString(entry.getValue());
        }
        return bytes;
    }

    /**
     * UTF-8 bytes of {@code value} as {@code String.getBytes(UTF_8)} writes it (a lone surrogate
     * becomes '?').
     */
    public static long utf8Length(String value) {
        long bytes = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
