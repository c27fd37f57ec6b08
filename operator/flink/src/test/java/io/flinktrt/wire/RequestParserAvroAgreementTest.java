package io.flinktrt.wire;

import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;

import org.apache.avro.Schema;
import org.apache.avro.SystemLimitException;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static io.flinktrt.testing.AvroBytes.concat;
import static io.flinktrt.testing.AvroBytes.hex;
import static io.flinktrt.testing.AvroBytes.varint;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A property: for random mutations of valid requests, our parser and Avro's own {@link
 * GenericDatumReader} agree on whether a record is an {@code InferenceRequest}, and on what it
 * holds when both read it. Avro refuses a record when its reader throws or leaves bytes unread (a
 * record of another schema). Fixed seed, so a failure reproduces.
 */
class RequestParserAvroAgreementTest {

    private static final long SEED = 20261129L;
    private static final int RECORDS = 100_000;

    /**
     * Above any record here: a longer string, bytes or collection is refused by both, as running
     * out of bytes.
     */
    private static final String AVRO_LIMIT = String.valueOf(1 << 20);

    private static final DataType[] DATA_TYPES = DataType.values();

    private final RequestParser parser = new RequestParser(Integer.MAX_VALUE, Integer.MAX_VALUE);
    private final GenericDatumReader<GenericRecord> avro =
            new GenericDatumReader<>(InferenceRequest.getClassSchema());

    /**
     * Records of producers that predate the text field end after the tensors, and those that
     * predate the image field after the text: Avro reads them with that writer schema, and so must
     * we.
     */
    private final GenericDatumReader<GenericRecord> avroBeforeText =
            new GenericDatumReader<>(
                    schemaWithout(List.of("text", "image")), InferenceRequest.getClassSchema());

    private final GenericDatumReader<GenericRecord> avroBeforeImage =
            new GenericDatumReader<>(
                    schemaWithout(List.of("image")), InferenceRequest.getClassSchema());

    private BinaryDecoder decoder;

    /**
     * Avro allocates a string, bytes or array at the length a record claims before it reads them (2
     * GB for a mutated length); its limits keep that to what any record of this test could hold.
     */
    @BeforeAll
    static void limitAvroAllocations() throws Exception {
        System.setProperty(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, AVRO_LIMIT);
        System.setProperty(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, AVRO_LIMIT);
        System.setProperty(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, AVRO_LIMIT);
        resetAvroLimits();
    }

    @AfterAll
    static void restoreAvroLimits() throws Exception {
        System.clearProperty(SystemLimitException.MAX_STRING_LENGTH_PROPERTY);
        System.clearProperty(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY);
        System.clearProperty(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY);
        resetAvroLimits();
    }

    private static void resetAvroLimits() throws Exception {
        Method reset = SystemLimitException.class.getDeclaredMethod("resetLimits");
        reset.setAccessible(true);
        reset.invoke(null);
    }

    @Test
    void ourParserAndAvroAgreeOnEveryMutatedRecord() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        int bothRead = 0;
        int bothRefused = 0;
        for (int i = 0; i < RECORDS; i++) {
            byte[] valid = encode(randomRequest(random), random.nextInt(3) == 0);
            byte[] payload = mutate(valid, random);
            GenericRecord expected = readWithAvro(payload);
            RequestParser.ParsedRequest parsed = parse(payload);
            if (expected == null) {
                assertThat(parsed).as("Avro refuses %s; we read it", hex(payload)).isNull();
                bothRefused++;
            } else {
                assertThat(parsed).as("Avro reads %s; we refuse it", hex(payload)).isNotNull();
                assertSameContent(parsed, expected, payload);
                bothRead++;
            }
        }
        System.out.printf(
                "agreement: %d records (seed %d): both read %d, both refused %d%n",
                RECORDS, SEED, bothRead, bothRefused);
        assertThat(bothRead).isGreaterThan(RECORDS / 20);
        assertThat(bothRefused).isGreaterThan(RECORDS / 5);
    }

    private RequestParser.ParsedRequest parse(byte[] payload) {
        try {
            return parser.parse(payload);
        } catch (RequestRejectedException e) {
            assertThat(e.code())
                    .as("rejection of %s", hex(payload))
                    .isEqualTo(ErrorCode.UNDECODABLE);
            return null;
        }
    }

    private GenericRecord readWithAvro(byte[] payload) {
        GenericRecord record = readWith(avro, payload);
        record = record != null ? record : readWith(avroBeforeImage, payload);
        return record != null ? record : readWith(avroBeforeText, payload);
    }

    private GenericRecord readWith(GenericDatumReader<GenericRecord> reader, byte[] payload) {
        decoder = DecoderFactory.get().binaryDecoder(payload, decoder);
        try {
            GenericRecord record = reader.read(null, decoder);
            return decoder.isEnd() ? record : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String utf8(ByteBuffer bytes) {
        return java.nio.charset.StandardCharsets.UTF_8.decode(bytes.duplicate()).toString();
    }

    private static Schema schemaWithout(List<String> later) {
        Schema now = InferenceRequest.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field field : now.getFields()) {
            if (!later.contains(field.name())) {
                fields.add(new Schema.Field(field, field.schema()));
            }
        }
        return Schema.createRecord(now.getName(), now.getDoc(), now.getNamespace(), false, fields);
    }

    private static void assertSameContent(
            RequestParser.ParsedRequest parsed, GenericRecord expected, byte[] payload) {
        String what = hex(payload);
        assertThat(parsed.id()).as("id of %s", what).isEqualTo(expected.get("id").toString());
        Object text = expected.get("text");
        assertThat(parsed.text() == null ? null : utf8(parsed.text()))
                .as("text of %s", what)
                .isEqualTo(text == null ? null : text.toString());
        Object image = expected.get("image"); // the reader's schema has it: null where absent
        assertThat(parsed.image()).as("image of %s", what).isEqualTo(image);
        Map<String, String> metadata = new HashMap<>();
        ((Map<?, ?>) expected.get("metadata"))
                .forEach((k, v) -> metadata.put(k.toString(), v.toString()));
        assertThat(parsed.metadata()).as("metadata of %s", what).isEqualTo(metadata);
        List<?> tensors = (List<?>) expected.get("tensors");
        assertThat(parsed.tensors()).as("tensors of %s", what).hasSameSizeAs(tensors);
        for (int t = 0; t < tensors.size(); t++) {
            GenericRecord tensor = (GenericRecord) tensors.get(t);
            RequestParser.ParsedTensor ours = parsed.tensors().get(t);
            assertThat(ours.name())
                    .as("name of tensor %d of %s", t, what)
                    .isEqualTo(tensor.get("name").toString());
            assertThat(ours.dtype().name())
                    .as("dtype of tensor %d of %s", t, what)
                    .isEqualTo(((GenericEnumSymbol<?>) tensor.get("dtype")).toString());
            assertThat(ours.shape())
                    .as("shape of tensor %d of %s", t, what)
                    .isEqualTo(
                            ((List<?>) tensor.get("shape"))
                                    .stream().mapToLong(d -> (Long) d).toArray());
            assertThat(ours.data())
                    .as("data of tensor %d of %s", t, what)
                    .isEqualTo(tensor.get("data"));
        }
    }

    private static InferenceRequest randomRequest(SplittableRandom random) {
        Map<String, String> metadata = new HashMap<>();
        for (int i = random.nextInt(3); i > 0; i--) {
            metadata.put(text(random, 6), text(random, 6));
        }
        List<Tensor> tensors = new ArrayList<>();
        for (int t = random.nextInt(1, 4); t > 0; t--) {
            List<Long> shape = new ArrayList<>();
            for (int d = random.nextInt(4); d > 0; d--) {
                shape.add(random.nextLong(-3, 300));
            }
            byte[] data = new byte[random.nextInt(24)];
            random.nextBytes(data);
            tensors.add(
                    new Tensor(
                            text(random, 5),
                            DATA_TYPES[random.nextInt(DATA_TYPES.length)],
                            shape,
                            ByteBuffer.wrap(data)));
        }
        return new InferenceRequest(
                text(random, 8),
                metadata,
                tensors,
                random.nextInt(3) == 0 ? text(random, 12) : null,
                random.nextInt(3) == 0 ? ByteBuffer.wrap(text(random, 12).getBytes(UTF_8)) : null);
    }

    private static String text(SplittableRandom random, int most) {
        char[] chars = new char[random.nextInt(most + 1)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = random.nextInt(8) == 0 ? 'ä' : (char) random.nextInt('a', 'z' + 1);
        }
        return new String(chars);
    }

    /**
     * Avro's plain encoding, or its blocking one: arrays and maps in blocks with a negative count
     * and a byte size.
     */
    private static byte[] encode(InferenceRequest request, boolean blocking) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Encoder encoder =
                blocking
                        ? new EncoderFactory()
                                .configureBlockSize(64)
                                .blockingBinaryEncoder(out, null)
                        : EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(InferenceRequest.class).write(request, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /**
     * One to three edits: bit flips, bytes, numbers Avro treats specially, drops, cuts, numbers
     * written long.
     */
    private static byte[] mutate(byte[] valid, SplittableRandom random) {
        byte[] bytes = valid;
        for (int edits = random.nextInt(1, 4); edits > 0 && bytes.length > 0; edits--) {
            int at = random.nextInt(bytes.length);
            bytes =
                    switch (random.nextInt(7)) {
                        case 0 -> flip(bytes, at, random);
                        case 1 -> replace(bytes, at, random.nextInt(256));
                        case 2 -> insert(bytes, at, varint(specialNumber(random)));
                        case 3 ->
                                concat(
                                        Arrays.copyOf(bytes, at),
                                        Arrays.copyOfRange(bytes, at + 1, bytes.length));
                        case 4 -> Arrays.copyOf(bytes, at);
                        case 5 -> insert(bytes, at, bytes(random));
                        default -> writtenLong(bytes, at, random);
                    };
        }
        return bytes;
    }

    private static byte[] flip(byte[] bytes, int at, SplittableRandom random) {
        return replace(bytes, at, bytes[at] ^ (1 << random.nextInt(8)));
    }

    private static byte[] replace(byte[] bytes, int at, int value) {
        byte[] copy = bytes.clone();
        copy[at] = (byte) value;
        return copy;
    }

    private static byte[] insert(byte[] bytes, int at, byte[] inserted) {
        return concat(
                Arrays.copyOf(bytes, at), inserted, Arrays.copyOfRange(bytes, at, bytes.length));
    }

    private static byte[] bytes(SplittableRandom random) {
        byte[] inserted = new byte[random.nextInt(1, 4)];
        random.nextBytes(inserted);
        return inserted;
    }

    private static long specialNumber(SplittableRandom random) {
        long[] special = {
            Long.MIN_VALUE,
            Long.MAX_VALUE,
            Integer.MIN_VALUE,
            Integer.MAX_VALUE,
            -1,
            0,
            1,
            7,
            8,
            -8,
            1L << 31,
            1L << 32,
            -(1L << 31),
            Integer.MAX_VALUE - 8L
        };
        return random.nextBoolean() ? special[random.nextInt(special.length)] : random.nextLong();
    }

    /**
     * Rewrites the one-byte number at {@code at} in 2 to 11 bytes: continuation bytes of zeros, and
     * in the last byte bits above what an int or long holds, which Avro's readers drop or refuse.
     */
    private static byte[] writtenLong(byte[] bytes, int at, SplittableRandom random) {
        if (bytes[at] < 0) {
            return bytes;
        }
        int length = random.nextInt(2, 12);
        byte[] number = new byte[length];
        number[0] = (byte) (bytes[at] | 0x80);
        for (int i = 1; i < length - 1; i++) {
            number[i] = (byte) 0x80;
        }
        number[length - 1] = (byte) (random.nextBoolean() ? random.nextInt(0x80) : 0);
        return concat(
                Arrays.copyOf(bytes, at), number, Arrays.copyOfRange(bytes, at + 1, bytes.length));
    }
}
