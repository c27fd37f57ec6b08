package io.flinktrt.jobs;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.jobs.kafka.BadRequests;
import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The whole job: a real Kafka broker in the JVM, a real Flink MiniCluster, ONNX Runtime. */
@Timeout(300)
class InferenceJobITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(2);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

    @ParameterizedTest
    @ValueSource(strings = {TestModels.TWO_IN_TWO_OUT, TestModels.TOKENS})
    void everyRequestComesBackExactlyOnceWithWhatOnnxRuntimePredicts(String modelName)
            throws Exception {
        Path model = TestModels.path(modelName);
        int n = 400;
        List<InferenceRequest> sent = new ArrayList<>();
        RandomRequests random = new RandomRequests(signature(model), 100, 7);
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "e2e-" + modelName,
                        2,
                        InferenceFunction.builder()
                                .setModel(model.toString())
                                .setMaxBatchSize(16)
                                .setMaxDelay(Duration.ofMillis(5)),
                        job -> job)) {
            for (int i = 0; i < n; i++) {
                InferenceRequest request = random.next(modelName + "-" + i);
                sent.add(request);
                run.producer.send(request);
            }
            run.producer.flush();
            Map<String, OutcomeReader.Outcome> outcomes =
                    run.readOutcomes(n, Duration.ofSeconds(120));

            assertThat(outcomes).hasSize(n);
            try (OnnxReference reference = new OnnxReference(model)) {
                for (InferenceRequest request : sent) {
                    OutcomeReader.Outcome outcome = outcomes.get(request.getId());
                    assertThat(outcome).as(request.getId()).isNotNull();
                    assertThat(outcome.failure()).as("failure of %s", request.getId()).isNull();
                    assertSameOutputs(outcome.result(), reference.run(request));
                }
            }
        }
    }

    @Test
    void eachKindOfBadInputEndsOnTheDeadLetterTopicWithItsCodeAndTheJobGoesOn() throws Exception {
        Path model = TestModels.path(TestModels.MLP);
        RandomRequests random = new RandomRequests(signature(model), 100, 11);
        Map<String, ErrorCode> expected = new HashMap<>();
        Map<String, byte[]> payloads = new HashMap<>();
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "dead-letter",
                        1,
                        InferenceFunction.builder()
                                .setModel(model.toString())
                                .setRejectNonFinite(true)
                                .setMaxBatchSize(8)
                                .setMaxDelay(Duration.ofMillis(5))
                                .setMaxRequestBytes(4096),
                        job -> job)) {
            for (int i = 0; i < 10; i++) {
                run.producer.send(random.next("good-" + i));
            }
            for (BadRequests.Bad bad : new BadRequests().allKinds(random.next("template"), "bad")) {
                if (bad.expected()
                        != ErrorCode.UNDECODABLE) { // an undecodable record has no id to match
                    expected.put(bad.id(), bad.expected());
                }
                payloads.put(bad.id(), bad.payload());
                run.producer.sendRaw(bad.id(), bad.payload());
            }
            InferenceRequest tooLarge =
                    random.next("bad-too-large"); // refused before decoding: no id
            tooLarge.setMetadata(Map.of("padding", "x".repeat(5000)));
            run.producer.send(tooLarge);
            InferenceRequest nan = random.next("bad-nan");
            nan.getTensors().get(0).getData().order(ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.NaN);
            send(run, nan, ErrorCode.NON_FINITE_INPUT, expected, payloads);
            run.producer.sendRaw(null, null); // a tombstone
            run.producer.sendRaw(
                    "other-schema",
                    new AvroCodec<>(InferenceFailure.class)
                            .encode(
                                    InferenceFailure.newBuilder()
                                            .setId("x")
                                            .setCode(ErrorCode.TIMEOUT)
                                            .setMessage("m")
                                            .setModel("model")
                                            .setPayload(ByteBuffer.allocate(3))
                                            .build()));
            for (int i = 10; i < 20; i++) {
                run.producer.send(random.next("good-" + i));
            }
            run.producer.flush();

            Map<String, OutcomeReader.Outcome> outcomes =
                    run.readOutcomes(20 + expected.size() + 4, Duration.ofSeconds(120));

            assertThat(
                            outcomes.values().stream()
                                    .filter(o -> o.result() != null)
                                    .map(OutcomeReader.Outcome::id))
                    .hasSize(20)
                    .allMatch(id -> id.startsWith("good-"));
            assertThat(outcomes.keySet()).containsAll(expected.keySet());
            expected.forEach(
                    (id, code) -> {
                        InferenceFailure failure = outcomes.get(id).failure();
                        assertThat(failure).as(id).isNotNull();
                        assertThat(failure.getCode()).as(id).isEqualTo(code);
                        assertThat(failure.getPayload())
                                .as(id)
                                .isEqualTo(ByteBuffer.wrap(payloads.get(id)));
                        assertThat(failure.getMessage()).as(id).isNotBlank();
                    });
            List<InferenceFailure> anonymous =
                    outcomes.values().stream()
                            .map(OutcomeReader.Outcome::failure)
                            .filter(f -> f != null && f.getId() == null)
                            .toList();
            // undecodable bytes, the tombstone, the record of another schema; the one too large to
            // decode
            assertThat(anonymous)
                    .extracting(InferenceFailure::getCode)
                    .containsExactlyInAnyOrder(
                            ErrorCode.UNDECODABLE,
                            ErrorCode.UNDECODABLE,
                            ErrorCode.UNDECODABLE,
                            ErrorCode.REQUEST_TOO_LARGE);
        }
    }

    private void send(
            KafkaJobHarness run,
            InferenceRequest request,
            ErrorCode code,
            Map<String, ErrorCode> expected,
            Map<String, byte[]> payloads) {
        byte[] payload = codec.encode(request);
        expected.put(request.getId(), code);
        payloads.put(request.getId(), payload);
        run.producer.sendRaw(request.getId(), payload);
    }

    private static void assertSameOutputs(InferenceResult result, Map<String, float[]> expected) {
        assertThat(result.getOutputs()).hasSize(expected.size());
        for (Tensor output : result.getOutputs()) {
            float[] want = expected.get(output.getName());
            float[] got = OnnxReference.floats(output);
            assertThat(got).as(output.getName()).hasSameSizeAs(want);
            for (int i = 0; i < want.length; i++) {
                assertThat(got[i])
                        .as("%s[%d] of %s", output.getName(), i, result.getId())
                        .isCloseTo(want[i], within(1e-5f));
            }
        }
    }

    static ModelSignature signature(Path model) throws Exception {
        try (var runner =
                new OnnxRuntimeBackend().open(new ModelConfig(model, 0, 0, 1, Map.of()))) {
            return runner.signature();
        }
    }
}
