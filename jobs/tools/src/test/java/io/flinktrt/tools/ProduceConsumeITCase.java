package io.flinktrt.tools;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.text.TextModels;
import io.flinktrt.text.TextReference;
import io.flinktrt.tools.cli.Cli;
import io.flinktrt.tools.files.Npy;
import io.flinktrt.tools.files.TensorFile;
import io.flinktrt.wire.AvroCodec;

import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The produce and consume commands around the real job: .npy in, Kafka, Flink, Kafka, .npy out. */
@Timeout(240)
class ProduceConsumeITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final int ROWS = 24;
    private static final int FEATURES =
            16; // mlp_classifier: x float32 [N,16] -> probs float32 [N,10]

    @Test
    void requestsFromANpyFileComeBackAsRowsOfTheModelsPrediction(@TempDir Path dir)
            throws Exception {
        Path model = TestModels.path(TestModels.MLP);
        float[][] x = new float[ROWS][FEATURES];
        for (int row = 0; row < ROWS; row++) {
            for (int k = 0; k < FEATURES; k++) {
                x[row][k] = (row - k) * 0.1f;
            }
        }
        Path input = dir.resolve("x.npy");
        writeNpy(input, x);
        Path saved = dir.resolve("out");

        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "tools",
                        1,
                        InferenceFunction.builder().setModel(model.toString()).setMaxBatchSize(8),
                        job -> job)) {
            String[] topics = {
                "--bootstrap-servers",
                KAFKA.bootstrapServers(),
                "--input-topic",
                run.input,
                "--output-topic",
                run.output,
                "--dead-letter-topic",
                run.deadLetter
            };
            assertThat(
                            Cli.execute(
                                    concat(
                                            topics,
                                            "produce",
                                            "--input",
                                            "x=" + input,
                                            "--rate",
                                            "200")))
                    .isZero();
            assertThat(
                            Cli.execute(
                                    concat(
                                            topics,
                                            "consume",
                                            "--from-beginning",
                                            "--count",
                                            String.valueOf(ROWS),
                                            "--idle-s",
                                            "60",
                                            "--drain-ms",
                                            "2000",
                                            "--output",
                                            saved.toString())))
                    .isZero();
            assertThat(
                            Cli.execute(
                                    concat(
                                            topics,
                                            "produce",
                                            "--model",
                                            model.toString(),
                                            "--count",
                                            "5",
                                            "--id-prefix",
                                            "random-")))
                    .isZero();
            Path raw = dir.resolve("x.f32"); // the same samples as x.npy, without a header
            Files.write(raw, littleEndian(x));
            assertThat(
                            Cli.execute(
                                    concat(
                                            topics,
                                            "produce",
                                            "--raw",
                                            "x=" + raw,
                                            "--dtype",
                                            "FLOAT32",
                                            "--shape",
                                            "16",
                                            "--count",
                                            "3",
                                            "--id-prefix",
                                            "raw-")))
                    .isZero();
            String jsonl = consumeJsonl(topics, ROWS + 8);
            assertThat(jsonl.lines())
                    .hasSize(ROWS + 8)
                    .allMatch(
                            line ->
                                    line.contains("\"backend\":\"onnxruntime\"")
                                            && line.contains(
                                                    "\"probs\":{\"dtype\":\"FLOAT32\",\"shape\":[1, 10],\"data\":["));
            assertThat(jsonl.lines().filter(line -> line.startsWith("{\"id\":\"random-")))
                    .hasSize(5);
            assertThat(probsOf(jsonl, "raw-2"))
                    .containsExactly(probsOf(jsonl, "req-2"), within(1e-5f));

            // A result that comes again after all of them: --count alone stops before it,
            // --drain-ms reads, saves and reports it.
            writeAgain(run, "req-3");
            Path undrained = dir.resolve("undrained");
            consume(topics, ROWS + 8, undrained);
            assertThat(Files.readAllLines(undrained.resolve("ids.txt")))
                    .hasSize(ROWS + 8)
                    .doesNotHaveDuplicates();
            Path drained = dir.resolve("drained");
            String summary = consume(topics, ROWS + 8, drained, "--drain-ms", "3000");
            List<String> drainedIds = Files.readAllLines(drained.resolve("ids.txt"));
            assertThat(drainedIds).hasSize(ROWS + 9);
            assertThat(drainedIds.stream().filter("req-3"::equals)).hasSize(2);
            assertThat(summary)
                    .contains("read more than once: 1 outcome(s) of ids read before: req-3");
        }

        List<String> ids = Files.readAllLines(saved.resolve("ids.txt"));
        assertThat(ids).hasSize(ROWS).doesNotHaveDuplicates();
        assertThat(Files.readString(saved.resolve("failures.jsonl"))).isEmpty();
        try (TensorFile probs = TensorFile.npy("probs", saved.resolve("probs.npy"));
                OnnxReference reference = new OnnxReference(model)) {
            assertThat(probs.rows()).isEqualTo(ROWS);
            for (int i = 0; i < ROWS; i++) {
                int row = Integer.parseInt(ids.get(i).substring("req-".length()));
                float[] want = reference.run(request(x[row])).get("probs");
                float[] got = OnnxReference.floats(probs.row(i));
                assertThat(got).hasSameSizeAs(want);
                for (int k = 0; k < want.length; k++) {
                    assertThat(got[k])
                            .as("row %d (request %s), class %d", i, ids.get(i), k)
                            .isCloseTo(want[k], within(1e-5f));
                }
            }
        }
    }

    /** {@code consume --from-beginning --count N --output DIR <more>}: what it printed. */
    private static String consume(String[] topics, int count, Path dir, String... more)
            throws Exception {
        List<String> flags =
                new ArrayList<>(
                        List.of(
                                "--from-beginning",
                                "--count",
                                String.valueOf(count),
                                "--output",
                                dir.toString()));
        flags.addAll(List.of(more));
        return stdoutOf(() -> Cli.execute(concat(topics, "consume", flags.toArray(String[]::new))));
    }

    /** Writes the result of request {@code id} to the output topic once more, at its end. */
    private static void writeAgain(KafkaJobHarness run, String id) {
        AvroCodec<InferenceResult> results = new AvroCodec<>(InferenceResult.class);
        InferenceResult[] found = {null};
        try (OutcomeReader reader =
                        new OutcomeReader(run.client, run.output, run.deadLetter, true);
                RequestProducer output = new RequestProducer(run.client, run.output)) {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (found[0] == null && System.nanoTime() < deadline) {
                reader.poll(
                        Duration.ofMillis(200),
                        outcome -> {
                            if (id.equals(outcome.id()) && outcome.result() != null) {
                                found[0] = outcome.result();
                            }
                        });
            }
            assertThat(found[0]).as("the result of " + id).isNotNull();
            output.sendRaw(id, results.encode(found[0]));
            output.flush();
        }
    }

    /** The probs values of request {@code id} in JSON lines. */
    private static float[] probsOf(String jsonl, String id) {
        String line =
                jsonl.lines()
                        .filter(l -> l.startsWith("{\"id\":\"" + id + "\""))
                        .findFirst()
                        .orElseThrow();
        int start = line.indexOf("[", line.indexOf("\"data\":"));
        String[] values = line.substring(start + 1, line.indexOf(']', start)).split(", ");
        float[] probs = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            probs[i] = Float.parseFloat(values[i]);
        }
        return probs;
    }

    private static InferenceRequest request(float[] features) {
        ByteBuffer data =
                ByteBuffer.allocate(features.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : features) {
            data.putFloat(f);
        }
        return new InferenceRequest(
                "reference",
                Map.of(),
                List.of(
                        new Tensor(
                                "x",
                                DataType.FLOAT32,
                                List.of(1L, (long) features.length),
                                data.flip())),
                null,
                null);
    }

    /** What np.save writes for a float32 array. */
    private static void writeNpy(Path file, float[][] rows) throws Exception {
        byte[] header = Npy.header(DataType.FLOAT32, new long[] {rows.length, rows[0].length});
        Files.write(file, concat(header, littleEndian(rows)));
    }

    private static byte[] littleEndian(float[][] rows) {
        ByteBuffer data =
                ByteBuffer.allocate(rows.length * rows[0].length * Float.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : rows) {
            for (float f : row) {
                data.putFloat(f);
            }
        }
        return data.array();
    }

    @Test
    void textsFromAFileComeBackAsTheClassifiersLabels(@TempDir Path dir) throws Exception {
        Path tokenizer = TextModels.writeTokenizer(dir);
        Path classifier = TextModels.writeClassifier(dir);
        Path labels = TextModels.writeLabels(dir);
        List<String> texts = List.of("the stream is good", "I hate slow jobs", "gpu kafka", "");
        Path file = Files.write(dir.resolve("texts.txt"), texts);
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "texts",
                        1,
                        InferenceFunction.builder()
                                .setModel(classifier.toString())
                                .setBackend("onnxruntime")
                                .setTokenizer(tokenizer.toString())
                                .setTopK(2, labels.toString()),
                        job -> job)) {
            String[] topics = {
                "--bootstrap-servers", KAFKA.bootstrapServers(),
                "--input-topic", run.input,
                "--output-topic", run.output,
                "--dead-letter-topic", run.deadLetter
            };
            assertThat(
                            Cli.execute(
                                    concat(
                                            topics,
                                            "produce",
                                            "--texts",
                                            file.toString(),
                                            "--id-prefix",
                                            "t")))
                    .isZero();
            String jsonl = consumeJsonl(topics, 4);
            Map<String, JsonNode> byId = new HashMap<>();
            for (String line : jsonl.lines().toList()) {
                JsonNode node = JSON.readTree(line);
                byId.put(node.get("id").asText(), node);
            }
            assertThat(byId).hasSize(4);
            assertThat(byId.get("t3").get("failure").get("code").asText()).isEqualTo("EMPTY_TEXT");
            try (TextReference reference = new TextReference(tokenizer, classifier)) {
                for (int i = 0; i < 3; i++) {
                    List<Map.Entry<String, Float>> expected = reference.ranked(texts.get(i));
                    JsonNode answered = byId.get("t" + i).get("labels");
                    List<String> names = new ArrayList<>();
                    answered.fieldNames().forEachRemaining(names::add);
                    assertThat(names)
                            .as(texts.get(i))
                            .containsExactly(expected.get(0).getKey(), expected.get(1).getKey());
                    for (int k = 0; k < 2; k++) {
                        assertThat(answered.get(names.get(k)).floatValue())
                                .isCloseTo(expected.get(k).getValue(), within(1e-5f));
                    }
                }
            }
        }
    }

    /** The first {@code count} outcomes, one JSON object a line, read from the beginning. */
    private static String consumeJsonl(String[] topics, int count) throws Exception {
        return stdoutOf(
                () ->
                        Cli.execute(
                                concat(
                                        topics,
                                        "consume",
                                        "--from-beginning",
                                        "--jsonl",
                                        "--count",
                                        String.valueOf(count),
                                        "--idle-s",
                                        "60")));
    }

    private static String stdoutOf(Callable<Integer> command) throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertThat(command.call()).isZero();
        } finally {
            System.setOut(stdout);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static String[] concat(String[] kafkaFlags, String command, String... flags) {
        String[] args = new String[1 + kafkaFlags.length + flags.length];
        args[0] = command;
        System.arraycopy(kafkaFlags, 0, args, 1, kafkaFlags.length);
        System.arraycopy(flags, 0, args, 1 + kafkaFlags.length, flags.length);
        return args;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
