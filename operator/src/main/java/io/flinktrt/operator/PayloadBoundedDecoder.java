package io.flinktrt.operator;

import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Avro binary decoding of one record that refuses any length the record cannot hold. Avro
 * allocates what a string, bytes, array or map length claims before it reads the contents, so an
 * 8-byte record claiming a 2 GB string makes it allocate 2 GB. Here every string and bytes length
 * must fit in the bytes left, and so must every array or map block count (each item takes at least
 * one byte), so decoding allocates in proportion to the record's size.
 */
final class PayloadBoundedDecoder extends Decoder {

    private final ByteArrayInputStream input;
    private final BinaryDecoder in;

    PayloadBoundedDecoder(byte[] payload) {
        this.input = new ByteArrayInputStream(payload);
        // The direct (unbuffered) decoder reads no further than asked, so input.available() is exact.
        this.in = DecoderFactory.get().directBinaryDecoder(input, null);
    }

    boolean isEnd() {
        return input.available() == 0;
    }

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        return new Utf8(readLengthAndBytes("string"));
    }

    @Override
    public String readString() throws IOException {
        return new String(readLengthAndBytes("string"), StandardCharsets.UTF_8);
    }

    @Override
    public void skipString() throws IOException {
        in.skipFixed(length("string"));
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        return ByteBuffer.wrap(readLengthAndBytes("bytes"));
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipFixed(length("bytes"));
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        in.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long readArrayStart() throws IOException {
        return items(in.readArrayStart(), "array");
    }

    @Override
    public long arrayNext() throws IOException {
        return items(in.arrayNext(), "array");
    }

    @Override
    public long skipArray() throws IOException {
        return items(in.skipArray(), "array");
    }

    @Override
    public long readMapStart() throws IOException {
        return items(in.readMapStart(), "map");
    }

    @Override
    public long mapNext() throws IOException {
        return items(in.mapNext(), "map");
    }

    @Override
    public long skipMap() throws IOException {
        return items(in.skipMap(), "map");
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }

    private byte[] readLengthAndBytes(String what) throws IOException {
        byte[] bytes = new byte[length(what)];
        in.readFixed(bytes, 0, bytes.length);
        return bytes;
    }

    private int length(String what) throws IOException {
        long length = in.readLong();
        if (length < 0 || length > input.available()) {
            throw new IOException("A " + what + " claims " + length + " bytes; " + input.available() + " are left.");
        }
        return (int) length;
    }

    private long items(long count, String what) throws IOException {
        if (count > input.available()) {
            throw new IOException("A block of " + what + " items claims " + count + " of them; "
                    + input.available() + " bytes are left.");
        }
        return count;
    }
}
