package io.flinktrt.wire;

import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;

import com.sun.management.ThreadMXBean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;

import static io.flinktrt.testing.AvroBytes.concat;
import static io.flinktrt.testing.AvroBytes.hex;
import static io.flinktrt.testing.AvroBytes.varint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Hostile bytes at the decoder for a fixed time: random bytes, valid requests with random mutations
 * and truncations, and records that claim huge lengths. Nothing but a {@link
 * RequestRejectedException} may come out, and no record may make it allocate much more than its own
 * size.
 */
@Timeout(60)
class RequestDecoderFuzzTest {

    private static final long BUDGET_NANOS = 5_000_000_000L;
    private static final long WARM_UP_NANOS = 1_000_000_000L;

    /**
     * Decoding allocates a few small objects per field; a claimed length must not turn into an
     * allocation.
     */
    private static final long ALLOCATION_SLACK = 1 << 20;

    private static final long ALLOCATION_PER_PAYLOAD_BYTE = 16;

    private final ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final RequestDecoder decoder =
            RequestDecoderTest.decoder(RequestDecoderTest.TWO_INPUTS, RequestDecoderTest.LIMITS);
    private final Map<ErrorCode, Integer> rejections = new EnumMap<>(ErrorCode.class);
    private int accepted;
    private long mostAllocated;
    private boolean measuring;

    @BeforeEach
    void warmUp() {
        // The first pass through each code path loads classes and links call sites: hundreds of
        // kilobytes that no record should be blamed for. Fuzz a while before measuring.
        measuring = false;
        fuzz(new SplittableRandom(1), WARM_UP_NANOS);
        measuring = true;
        accepted = 0;
        rejections.clear();
        mostAllocated = 0;
    }

    @Test
    void recordsThatClaimHugeLengthsAreRejectedWithoutAllocatingThem() {
        byte[] id = concat(varint(1), "r".getBytes(StandardCharsets.UTF_8));
        byte[] noMetadata = varint(0);
        byte[] tensorStart =
                concat(varint(1), varint(1), "x".getBytes(StandardCharsets.UTF_8), varint(1));
        for (long huge :
                new long[] {Integer.MAX_VALUE - 8, 1L << 30, 1L << 26, Long.MAX_VALUE / 2}) {
            decodeSafely(concat(id, varint(huge))); // metadata entries
            decodeSafely(concat(id, varint(1), varint(huge))); // a metadata key
            decodeSafely(concat(id, noMetadata, varint(huge))); // tensors
            decodeSafely(
                    concat(id, noMetadata, varint(-huge), varint(1 << 20))); // tensors, sized block
            decodeSafely(concat(id, noMetadata, varint(1), varint(huge))); // a tensor name
            decodeSafely(concat(id, noMetadata, tensorStart, varint(huge))); // shape
            decodeSafely(
                    concat(id, noMetadata, tensorStart, varint(0), varint(huge))); // data bytes
            decodeSafely(concat(varint(huge))); // the id
        }
        assertThat(accepted).isZero();
        assertThat(rejections.keySet()).containsOnly(ErrorCode.UNDECODABLE);
    }

    @Test
    void randomAndMutatedRecordsOnlyEverGetRejectedForAFixedTime() {
        long seed = System.nanoTime();
        int tries = fuzz(new SplittableRandom(seed), BUDGET_NANOS);
        System.out.printf(
                "fuzz: %d records in %d s (seed %d): %d decoded, rejected %s, most allocated by one"
                        + " decode %d bytes%n",
                tries, BUDGET_NANOS / 1_000_000_000L, seed, accepted, rejections, mostAllocated);
        assertThat(tries).isGreaterThan(1000);
        assertThat(rejections.get(ErrorCode.UNDECODABLE)).isPositive();
    }

    /** Random bytes, truncated valid requests, mutated ones and mutated truncated ones, in turn. */
    private int fuzz(SplittableRandom random, long nanos) {
        RandomRequests requests =
                new RandomRequests(RequestDecoderTest.TWO_INPUTS, 10, random.nextLong());
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        long deadline = System.nanoTime() + nanos;
        int tries = 0;
        while (System.nanoTime() < deadline) {
            byte[] valid = codec.encode(requests.next("req-" + tries));
            byte[] payload =
                    switch (tries % 4) {
                        case 0 -> randomBytes(random, random.nextInt(200));
                        case 1 -> Arrays.copyOf(valid, random.nextInt(valid.length));
                        case 2 -> mutate(valid, random);
                        default ->
                                mutate(Arrays.copyOf(valid, random.nextInt(valid.length)), random);
                    };
            decodeSafely(payload);
            tries++;
        }
        return tries;
    }

    /** Decodes, allowing only a rejection, and checks what the attempt allocated. */
    private void decodeSafely(byte[] payload) {
        RequestRejectedException rejection = null;
        long before = threads.getCurrentThreadAllocatedBytes();
        try {
            decoder.decode(payload);
        } catch (RequestRejectedException e) {
            rejection = e;
        } catch (Throwable t) {
            fail("decode of " + hex(payload) + " threw " + t, t);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        if (measuring) {
            mostAllocated = Math.max(mostAllocated, allocated);
            assertThat(allocated)
                    .as(() -> "bytes allocated decoding " + hex(payload))
                    .isLessThan(ALLOCATION_SLACK + ALLOCATION_PER_PAYLOAD_BYTE * payload.length);
        }
        if (rejection == null) {
            accepted++;
        } else {
            // The decoder turns an OutOfMemoryError into a rejection; for a small record that is a
            // bug too.
            assertThat(rejection.getMessage())
                    .as(() -> "rejection of " + hex(payload))
                    .doesNotContain("OutOfMemoryError");
            rejections.merge(rejection.code(), 1, Integer::sum);
        }
    }

    private static byte[] mutate(byte[] valid, SplittableRandom random) {
        byte[] bytes = valid.clone();
        int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits && bytes.length > 0; i++) {
            int at = random.nextInt(bytes.length);
            switch (random.nextInt(4)) {
                case 0 -> bytes[at] ^= (byte) (1 << random.nextInt(8));
                case 1 -> bytes[at] = (byte) random.nextInt(256);
                case 2 ->
                        bytes =
                                concat(
                                        Arrays.copyOf(bytes, at),
                                        varint(random.nextLong()),
                                        Arrays.copyOfRange(
                                                bytes,
                                                at,
                                                bytes.length)); // a stray (often huge) length
                default ->
                        bytes =
                                concat(
                                        Arrays.copyOf(bytes, at),
                                        Arrays.copyOfRange(bytes, at + 1, bytes.length));
            }
        }
        return bytes;
    }

    private static byte[] randomBytes(SplittableRandom random, int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }
}
