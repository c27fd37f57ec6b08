package io.flinktrt.wire;

import io.flinktrt.backend.BatchRun;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceResult;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failures always fit their limit and keep as much as fits; result sizes are never underestimated.
 */
class OutcomesTest {

    private static final int LIMIT = 24 << 10;

    private final AvroCodec<InferenceFailure> failures = new AvroCodec<>(InferenceFailure.class);
    private final AvroCodec<InferenceResult> results = new AvroCodec<>(InferenceResult.class);

    @Test
    void aFailureSaysWhichModelVersionWasServing() {
        RequestRecord request = new RequestRecord(new byte[] {1, 2}, "requests", 0, 7);

        InferenceFailure versioned =
                failure(
                        new Outcomes(new ServedModel("mlp", 3), LIMIT)
                                .failure("r1", ErrorCode.TIMEOUT, "late", request));
        InferenceFailure unversioned =
                failure(
                        new Outcomes(
                                        new ServedModel("mlp_classifier", ServedModel.NO_VERSION),
                                        LIMIT)
                                .failure("r1", ErrorCode.TIMEOUT, "late", request));

        assertThat(versioned.getModel()).isEqualTo("mlp");
        assertThat(versioned.getModelVersion()).isEqualTo(3L);
        assertThat(failures.decode(failures.encode(versioned)).getModelVersion()).isEqualTo(3L);
        assertThat(unversioned.getModelVersion()).isNull();
    }

    @Test
    void everyFailureFitsItsLimitAndKeepsAllThatFits() {
        Outcomes outcomes = new Outcomes(new ServedModel("model", ServedModel.NO_VERSION), LIMIT);
        SplittableRandom random = new SplittableRandom(15);
        for (int i = 0; i < 1000; i++) {
            byte[] payload = new byte[random.nextInt(2 * LIMIT)];
            random.nextBytes(payload);
            String id =
                    random.nextInt(4) == 0
                            ? null
                            : text(random, random.nextInt(4) == 0 ? 2 * LIMIT : 40);
            String message = text(random, random.nextInt(5) == 0 ? 3 * LIMIT : 200);
            RequestRecord request =
                    new RequestRecord(
                            payload, "requests", random.nextInt(8), random.nextLong(1L << 40));

            InferenceFailure failure =
                    failure(outcomes.failure(id, ErrorCode.WRONG_DTYPE, message, request));

            int size = failures.encode(failure).length;
            byte[] kept = bytes(failure.getPayload());
            assertThat(size).as("failure %d", i).isLessThanOrEqualTo(LIMIT);
            assertThat(kept).isEqualTo(Arrays.copyOf(payload, kept.length));
            assertThat(failure.getPayloadSize()).isEqualTo((long) payload.length);
            assertThat(failure.getSource().getOffset()).isEqualTo(request.offset());
            assertThat(failure.getMessage().length())
                    .isLessThanOrEqualTo(Outcomes.MAX_MESSAGE_CHARS + 3);
            boolean idCut = id != null && !id.equals(failure.getId());
            assertThat(failure.getTruncated()).isEqualTo(kept.length < payload.length || idCut);
            if (idCut) { // a prefix of the id as it goes on the wire (a lone surrogate is written
                // as '?')
                byte[] cut = failure.getId().getBytes(StandardCharsets.UTF_8);
                assertThat(cut)
                        .isEqualTo(Arrays.copyOf(id.getBytes(StandardCharsets.UTF_8), cut.length));
            }
            if (kept.length < payload.length && !idCut) { // one byte more would not have fitted
                failure.setPayload(ByteBuffer.wrap(payload, 0, kept.length + 1));
                assertThat(failures.encode(failure).length).isGreaterThan(LIMIT);
            }
        }
    }

    @Test
    void aFailureThatFitsIsWhole() {
        byte[] payload = new byte[1000];
        InferenceFailure failure =
                failure(
                        new Outcomes(new ServedModel("model", ServedModel.NO_VERSION), LIMIT)
                                .failure(
                                        "r-1",
                                        ErrorCode.TIMEOUT,
                                        "late",
                                        RequestRecord.of(payload)));

        assertThat(failure.getTruncated()).isFalse();
        assertThat(failure.getPayload()).isEqualTo(ByteBuffer.wrap(payload));
        assertThat(failure.getSource()).isNull();
    }

    @Test
    void aResultIsNeverLargerThanPredicted() {
        ResultEncoder encoder =
                new ResultEncoder(
                        RequestDecoderTest.TWO_INPUTS,
                        "onnxruntime",
                        new ServedModel("two", ServedModel.NO_VERSION),
                        null);
        SplittableRandom random = new SplittableRandom(16);
        for (int i = 0; i < 1000; i++) {
            String id = text(random, 300);
            Map<String, String> metadata = new HashMap<>();
            for (int m = random.nextInt(4); m > 0; m--) {
                metadata.put(text(random, 30), text(random, 300));
            }
            DecodedRequest request =
                    new DecodedRequest(id, metadata, new ByteBuffer[0], null, null, 0);
            PendingRequest pending = new PendingRequest(request, random.nextLong());
            BatchRun run =
                    new BatchRun(
                            random.nextInt(1, Integer.MAX_VALUE),
                            random.nextInt(1, 64),
                            random.nextLong(Long.MAX_VALUE));
            InferenceOutcome outcome =
                    encoder.encode(
                            pending,
                            0,
                            new RecordPathBenchmark.DirectBatch(RequestDecoderTest.TWO_INPUTS),
                            run,
                            random.nextLong(),
                            random.nextLong());

            long predicted = encoder.maxEncodedBytes(id, metadata);
            int actual = results.encode((InferenceResult) outcome.getOutcome()).length;
            assertThat(predicted)
                    .as("result %d", i)
                    .isGreaterThanOrEqualTo(actual)
                    .isLessThanOrEqualTo(actual + 31);
        }
    }

    /** ASCII, accented, CJK, surrogate pairs and lone surrogates: every UTF-8 length. */
    private static String text(SplittableRandom random, int most) {
        StringBuilder s = new StringBuilder();
        for (int n = random.nextInt(most + 1); n > 0; n--) {
            switch (random.nextInt(5)) {
                case 0 -> s.append((char) random.nextInt('a', 'z' + 1));
                case 1 -> s.append('é');
                case 2 -> s.append('語');
                case 3 -> s.appendCodePoint(0x1F600);
                default -> s.append((char) random.nextInt(0xD800, 0xE000));
            }
        }
        return s.toString();
    }

    private static InferenceFailure failure(InferenceOutcome outcome) {
        return (InferenceFailure) outcome.getOutcome();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
