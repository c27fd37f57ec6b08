package io.flinktrt.jobs;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.jobs.kafka.RecordSizeLimits;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.SourcePosition;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.logging.log4j.core.LogEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;

import static io.flinktrt.testing.AvroBytes.concat;
import static io.flinktrt.testing.AvroBytes.string;
import static io.flinktrt.testing.AvroBytes.varint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Poisoned records mixed into valid traffic, on a broker with Kafka's default record size limit
 * (the input topic takes larger records than the others): the job keeps running without a restart,
 * every valid request comes back exactly once, and every poisoned one ends on the dead-letter topic
 * once, with its code, its id once decoded, where it was read, and as much of its payload as the
 * topic takes.
 */
@Timeout(300)
class PoisonedRecordsITCase {

    /** Kafka's default message.max.bytes and max.message.bytes. */
    static final int KAFKA_DEFAULT_RECORD_LIMIT = 1_048_588;

    /** The input topic takes larger records than the output and dead-letter topics. */
    private static final int INPUT_TOPIC_LIMIT = 2 << 20;

    private static final int GOOD = 40;

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(2);

    @RegisterExtension
    static final KafkaBroker KAFKA =
            new KafkaBroker(
                    Map.of("message.max.bytes", String.valueOf(KAFKA_DEFAULT_RECORD_LIMIT)));

    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

    /** A poisoned record, what must come back for it, and where it was written. */
    private record Poison(
            String name, byte[] payload, ErrorCode code, String id, Future<RecordMetadata> sent) {}

    @Test
    void poisonedRecordsEndOnTheDeadLetterTopicOnceAndTheJobGoesOn() throws Exception {
        Path model = TestModels.path(TestModels.MLP);
        ModelSignature signature = InferenceJobITCase.signature(model);
        RandomRequests random = new RandomRequests(signature, 100, 23);
        createInputTopic("poison-requests", INPUT_TOPIC_LIMIT);
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "poison",
                        2,
                        InferenceFunction.builder()
                                .setModel(model.toString())
                                .setMaxBatchSize(8)
                                .setMaxDelay(Duration.ofMillis(5)),
                        job -> job)) {
            for (int i = 0; i < 4; i++) {
                run.producer.send(random.next("warm-up-" + i));
            }
            run.producer.flush();
            assertThat(readAll(run, 4))
                    .hasSize(4); // the job runs: what it logs from here on is the poison's

            List<Poison> poisons = new ArrayList<>();
            List<String> good = new ArrayList<>();
            try (CapturedLogs logs = new CapturedLogs()) {
                for (int i = 0; i < GOOD; i++) {
                    InferenceRequest request =
                            random.next(i % 10 == 1 ? "g".repeat(600_000) + i : "good-" + i);
                    good.add(request.getId());
                    run.producer.send(request);
                    if (i % 4 == 0) {
                        poisons.add(nextPoison(run, random, poisons.size()));
                    }
                }
                while (poisons.size() < POISON_KINDS) {
                    poisons.add(nextPoison(run, random, poisons.size()));
                }
                run.producer.flush();

                List<OutcomeReader.Outcome> outcomes = readAll(run, GOOD + poisons.size());

                assertThat(run.status()).isEqualTo(JobStatus.RUNNING);
                assertThat(
                                outcomes.stream()
                                        .filter(o -> o.result() != null)
                                        .map(OutcomeReader.Outcome::id))
                        .containsExactlyInAnyOrderElementsOf(good);
                List<InferenceFailure> failures =
                        outcomes.stream()
                                .map(OutcomeReader.Outcome::failure)
                                .filter(f -> f != null)
                                .toList();
                assertThat(failures).hasSize(poisons.size());
                Map<String, InferenceFailure> bySource = new HashMap<>();
                failures.forEach(f -> bySource.put(where(f.getSource()), f));
                for (Poison poison : poisons) {
                    InferenceFailure failure = bySource.get(where(poison));
                    assertThat(failure).as(poison.name()).isNotNull();
                    assertThat(failure.getCode()).as(poison.name()).isEqualTo(poison.code());
                    assertThat(failure.getId()).as(poison.name()).isEqualTo(poison.id());
                    assertThat(failure.getPayloadSize())
                            .as(poison.name())
                            .isEqualTo((long) poison.payload().length);
                    byte[] payload = bytes(failure.getPayload());
                    assertThat(failure.getTruncated())
                            .as(poison.name())
                            .isEqualTo(payload.length < poison.payload().length);
                    assertThat(payload)
                            .as(poison.name())
                            .isEqualTo(Arrays.copyOf(poison.payload(), payload.length));
                }
                assertThat(
                                poisons.stream()
                                        .filter(p -> bySource.get(where(p)).getTruncated())
                                        .map(Poison::name))
                        .as("failures cut to fit")
                        .containsExactlyInAnyOrder("poison-0", "poison-1", "poison-2", "poison-3");

                List<LogEvent> warnings = logs.warnings();
                assertThat(warnings).as("%s", logs.describe()).allMatch(e -> e.getThrown() == null);
                assertThat(warnings.size())
                        .as("%s", logs.describe())
                        .isLessThanOrEqualTo(poisons.size());
            }
        }
    }

    @Test
    void onlyTheRequestsTheBackendCannotRunFailAndEachFailedBatchCostsOneLine() throws Exception {
        Path model = TestModels.path(TestModels.TOKENS);
        RandomRequests random = new RandomRequests(InferenceJobITCase.signature(model), 100, 29);
        long[] outOfVocabulary = {
            100, -101, Long.MAX_VALUE
        }; // the embedding has rows 0..99 (and -100..-1 from the end)
        int pairs = 300;
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "vocabulary",
                        2,
                        InferenceFunction.builder()
                                .setModel(model.toString())
                                .setMaxBatchSize(16)
                                .setMaxDelay(Duration.ofMillis(5)),
                        job -> job)) {
            run.producer.send(random.next("warm-up"));
            run.producer.flush();
            assertThat(readAll(run, 1)).hasSize(1);

            try (CapturedLogs logs = new CapturedLogs()) {
                for (int i = 0; i < pairs; i++) {
                    run.producer.send(random.next("valid-" + i));
                    InferenceRequest oov = random.next("oov-" + i);
                    oov.getTensors()
                            .get(0)
                            .getData()
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putLong(8 * (i % 16), outOfVocabulary[i % outOfVocabulary.length]);
                    run.producer.send(oov);
                }
                run.producer.flush();

                List<OutcomeReader.Outcome> outcomes = readAll(run, 2 * pairs);

                assertThat(run.status()).isEqualTo(JobStatus.RUNNING);
                assertThat(outcomes).hasSize(2 * pairs);
                assertThat(
                                outcomes.stream()
                                        .filter(o -> o.failure() != null)
                                        .map(OutcomeReader.Outcome::id))
                        .as("requests on the dead-letter topic")
                        .allMatch(id -> id.startsWith("oov-"))
                        .hasSize(pairs);
                assertThat(
                                outcomes.stream()
                                        .filter(o -> o.failure() != null)
                                        .map(o -> o.failure().getCode()))
                        .containsOnly(ErrorCode.BACKEND_ERROR);
                List<LogEvent> warnings = logs.warnings();
                assertThat(warnings)
                        .as("%s", logs.describe())
                        .allMatch(
                                e ->
                                        e.getMessage()
                                                .getFormattedMessage()
                                                .contains("the backend failed a batch"))
                        .hasSizeLessThanOrEqualTo(pairs);
                assertThat(warnings.stream().filter(e -> e.getThrown() != null))
                        .as("stack traces")
                        .hasSizeLessThanOrEqualTo(1);
            }
        }
    }

    @Test
    void topicLimitsAreReadFromTheBrokerOrFallBackToTheConfiguredOne() throws Exception {
        createInputTopic("limits-large", INPUT_TOPIC_LIMIT);
        KAFKA.createTopics(1, "limits-default");
        Properties producer = new Properties();
        producer.setProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(3 << 20));

        RecordSizeLimits limits =
                RecordSizeLimits.read(
                        KAFKA.clientProperties(),
                        producer,
                        List.of("limits-large"),
                        List.of("limits-default", "limits-missing"),
                        12_345);

        assertThat(limits.recordBytes("limits-large")).isEqualTo(INPUT_TOPIC_LIMIT);
        assertThat(limits.recordBytes("limits-default")).isEqualTo(KAFKA_DEFAULT_RECORD_LIMIT);
        assertThat(limits.recordBytes("limits-missing"))
                .as("not readable: the fallback")
                .isEqualTo(12_345);
        producer.setProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1000");
        assertThat(
                        RecordSizeLimits.read(
                                        KAFKA.clientProperties(),
                                        producer,
                                        List.of(),
                                        List.of("limits-default"),
                                        12_345)
                                .recordBytes("limits-default"))
                .as("the producer's limit is lower")
                .isEqualTo(1000);
    }

    private static final int POISON_KINDS = 12;

    /** Poisoned record number {@code kind}: one of each kind, then again from the first. */
    /** {@code request} with its tensor x labelled INT32 (its bytes unchanged). */
    private static InferenceRequest asInt32(InferenceRequest request) {
        Tensor x = request.getTensors().get(0);
        return withTensor(request, new Tensor("x", DataType.INT32, x.getShape(), x.getData()));
    }

    private Poison nextPoison(KafkaJobHarness run, RandomRequests random, int kind) {
        String name = "poison-" + kind;
        InferenceRequest good = random.next(name);
        Tensor x = good.getTensors().get(0);
        return switch (kind % POISON_KINDS) {
            // the failure echoes the request: larger than the dead-letter topic takes
            case 0 ->
                    send(run, name, padded(asInt32(good), 1_048_500), ErrorCode.WRONG_DTYPE, name);
            case 1 ->
                    send(run, name, padded(asInt32(good), 1_500_000), ErrorCode.WRONG_DTYPE, name);
            case 2 -> {
                String id = "i".repeat(600_000);
                yield send(
                        run,
                        name,
                        codec.encode(new InferenceRequest(id, Map.of(), List.of(), null, null)),
                        ErrorCode.MISSING_TENSOR,
                        id);
            }
            // a result larger than the output topic takes
            case 3 -> send(run, name, padded(good, 1_048_500), ErrorCode.RESULT_TOO_LARGE, name);
            case 4 ->
                    send(
                            run,
                            name,
                            codec.encode(
                                    withTensor(
                                            good,
                                            new Tensor(
                                                    "n".repeat(700_000),
                                                    x.getDtype(),
                                                    x.getShape(),
                                                    x.getData()))),
                            ErrorCode.UNKNOWN_TENSOR,
                            name);
            case 5 -> {
                List<Tensor> tensors = new ArrayList<>(good.getTensors());
                for (int i = 0; i < 64; i++) {
                    tensors.add(
                            new Tensor(
                                    "extra" + i,
                                    DataType.FLOAT32,
                                    List.of(1L),
                                    ByteBuffer.allocate(4)));
                }
                yield send(
                        run,
                        name,
                        codec.encode(new InferenceRequest(name, Map.of(), tensors, null, null)),
                        ErrorCode.REQUEST_TOO_LARGE,
                        name);
            }
            case 6 ->
                    send(
                            run,
                            name,
                            codec.encode(
                                    withTensor(
                                            good,
                                            new Tensor(
                                                    "x",
                                                    x.getDtype(),
                                                    List.of(
                                                            1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L,
                                                            1L, 1L, 1L, 1L, 1L, 1L, 16L),
                                                    x.getData()))),
                            ErrorCode.SHAPE_NOT_ACCEPTED,
                            name);
            case 7 ->
                    send(
                            run,
                            name,
                            tensorWithDtype(name, varint(DataType.values().length)),
                            ErrorCode.UNDECODABLE,
                            null);
            case 8 ->
                    send(run, name, tensorWithDtype(name, varint(-1)), ErrorCode.UNDECODABLE, null);
            // FLOAT32 written in six bytes: a long's encoding, more than an Avro int (an enum
            // index) takes
            case 9 ->
                    send(
                            run,
                            name,
                            tensorWithDtype(
                                    name,
                                    new byte[] {
                                        (byte) 0x80,
                                        (byte) 0x80,
                                        (byte) 0x80,
                                        (byte) 0x80,
                                        (byte) 0x80,
                                        0
                                    }),
                            ErrorCode.UNDECODABLE,
                            null);
            // a block of Long.MIN_VALUE tensors: its negation overflows
            case 10 ->
                    send(
                            run,
                            name,
                            concat(
                                    string(name),
                                    varint(0),
                                    varint(Long.MIN_VALUE),
                                    varint(3),
                                    varint(0)),
                            // Avro ends the array at the overflowing count and reads the unread end
                            // marker as the text field's null: a request without tensors
                            ErrorCode.MISSING_TENSOR,
                            name);
            default -> send(run, name, new byte[0], ErrorCode.UNDECODABLE, null);
        };
    }

    private Poison send(
            KafkaJobHarness run, String name, byte[] payload, ErrorCode code, String id) {
        return new Poison(name, payload, code, id, run.producer.sendRaw(name, payload));
    }

    /** The request with metadata that makes it {@code bytes} long. */
    private byte[] padded(InferenceRequest request, int bytes) {
        request.setMetadata(Map.of("padding", ""));
        int base = codec.encode(request).length;
        int padding = bytes - base;
        byte[] payload;
        do { // the padding's length takes a few bytes more than an empty one's
            request.setMetadata(Map.of("padding", "p".repeat(padding)));
            payload = codec.encode(request);
            padding -= payload.length - bytes;
        } while (payload.length > bytes);
        assertThat(payload).hasSize(bytes);
        return payload;
    }

    private static InferenceRequest withTensor(InferenceRequest request, Tensor tensor) {
        return new InferenceRequest(
                request.getId(), request.getMetadata(), List.of(tensor), null, null);
    }

    /** A request of one tensor whose data type index is written as {@code dtype}. */
    private static byte[] tensorWithDtype(String id, byte[] dtype) {
        return concat(
                string(id),
                varint(0),
                varint(1),
                string("x"),
                dtype,
                varint(1),
                varint(16),
                varint(0),
                varint(64),
                new byte[64],
                varint(0));
    }

    private static List<OutcomeReader.Outcome> readAll(KafkaJobHarness run, int count) {
        List<OutcomeReader.Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (outcomes.size() < count && System.nanoTime() < deadline) {
            run.reader.poll(Duration.ofMillis(200), outcomes::add);
        }
        run.reader.poll(Duration.ofMillis(500), outcomes::add); // nothing more may come
        return outcomes;
    }

    private static void createInputTopic(String topic, int maxRecordBytes) throws Exception {
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            admin.createTopics(
                            List.of(
                                    new NewTopic(topic, 2, (short) 1)
                                            .configs(
                                                    Map.of(
                                                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                                                            String.valueOf(maxRecordBytes)))))
                    .all()
                    .get();
        }
    }

    private static String where(Poison poison) {
        try {
            RecordMetadata sent = poison.sent().get();
            return sent.topic() + "/" + sent.partition() + "/" + sent.offset();
        } catch (Exception e) {
            throw new AssertionError(poison.name() + " was not sent", e);
        }
    }

    private static String where(SourcePosition source) {
        return source == null
                ? "nowhere"
                : source.getTopic() + "/" + source.getPartition() + "/" + source.getOffset();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
