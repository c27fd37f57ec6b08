package io.flinktrt.jobs.sql;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;

import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.HistogramStatistics;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * CREATE MODEL + ML_PREDICT end to end on a MiniCluster with the in-JVM Kafka (one of each for the
 * whole class): JSON rows from Kafka through the model to Kafka, outputs equal to ONNX Runtime run
 * directly, rows batched, bad rows under both error-handling strategies, and exactly-once delivery
 * through an injected task failure.
 */
@Timeout(300)
class MlPredictITCase {

    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.withReporter(2, METRICS);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TWO_IN_TWO_OUT =
            TestModels.path(TestModels.TWO_IN_TWO_OUT).toString();

    @Test
    void twoInTwoOutGivesOnnxRuntimesOutputsInBatches() throws Exception {
        int rows = 2000;
        Random random = new Random(7);
        Map<String, float[][]> inputs = new HashMap<>();
        List<ObjectNode> records = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            float[] a = randomFloats(random, 8);
            float[] b = randomFloats(random, 8);
            inputs.put("r" + i, new float[][] {a, b});
            ObjectNode record = JSON.createObjectNode().put("id", "r" + i);
            record.set("a", JSON.valueToTree(a));
            record.set("b", JSON.valueToTree(b));
            records.add(record);
        }
        produce(
                "tio-in",
                records); // all there before the job starts: it reads them under full load

        TableEnvironment tables = tables();
        tables.executeSql(
                kafkaTable(
                        "requests", "tio-in", "id STRING, a ARRAY<FLOAT>, b ARRAY<FLOAT>", true));
        tables.executeSql(
                kafkaTable(
                        "results",
                        "tio-out",
                        "id STRING, mix ARRAY<FLOAT>, distance FLOAT, error STRING",
                        false));
        tables.executeSql(
                "CREATE MODEL two_in_two_out INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>)"
                        + " OUTPUT (mix ARRAY<FLOAT>, distance FLOAT, error STRING)"
                        + " WITH ('provider' = 'onnxruntime', 'model' = '"
                        + TWO_IN_TWO_OUT
                        + "', 'max-batch' = '32')");
        TableResult insert =
                tables.executeSql(
                        "INSERT INTO results SELECT id, mix, distance, error FROM ML_PREDICT("
                                + "TABLE requests, MODEL two_in_two_out, DESCRIPTOR(a, b), MAP['max-concurrent-operations', '128'])");
        insert.await(120, TimeUnit.SECONDS);

        Map<String, JsonNode> results = consume("tio-out", rows, false);
        assertThat(results).hasSize(rows);
        try (OnnxReference reference = new OnnxReference(Path.of(TWO_IN_TWO_OUT))) {
            for (Map.Entry<String, JsonNode> result : results.entrySet()) {
                float[][] in = inputs.get(result.getKey());
                Map<String, float[]> expected =
                        reference.run(
                                request(
                                        result.getKey(),
                                        tensor("a", DataType.FLOAT32, 8, floatBytes(in[0])),
                                        tensor("b", DataType.FLOAT32, 8, floatBytes(in[1]))));
                assertThat(floats(result.getValue().get("mix")))
                        .as(result.getKey())
                        .containsExactly(expected.get("mix"), within(1e-5f));
                assertThat(result.getValue().get("distance").floatValue())
                        .as(result.getKey())
                        .isCloseTo(expected.get("distance")[0], within(1e-5f));
                assertThat(result.getValue().get("error").isNull()).isTrue();
            }
        }
        HistogramStatistics batches = batchSizes(jobId(insert));
        System.out.printf(
                "ML_PREDICT two_in_two_out: %d rows in %d batches, mean %.1f rows, max %d%n",
                rows, batches.size(), batches.getMean(), batches.getMax());
        assertThat(batches.getMax()).as("largest batch").isEqualTo(32);
        // 2,000 rows at most 32 per batch: 63 batches at best; seen 143 (mean 14.0) on a
        // loaded 2-core machine. Without batching there would be 2,000.
        assertThat(batches.getMean()).as("mean rows per batch under load").isGreaterThan(4.0);
    }

    @Test
    void int64InputsGiveOnnxRuntimesOutputs() throws Exception {
        int rows = 300;
        Random random = new Random(11);
        Map<String, long[][]> inputs = new HashMap<>();
        List<ObjectNode> records = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            long[] ids = random.longs(16, 0, 100).toArray();
            long[] mask = random.longs(16, 0, 2).toArray();
            inputs.put("t" + i, new long[][] {ids, mask});
            ObjectNode record = JSON.createObjectNode().put("id", "t" + i);
            record.set("ids", JSON.valueToTree(ids));
            record.set("mask", JSON.valueToTree(mask));
            records.add(record);
        }
        produce("tok-in", records);

        TableEnvironment tables = tables();
        tables.executeSql(
                kafkaTable(
                        "tokens",
                        "tok-in",
                        "id STRING, ids ARRAY<BIGINT>, mask ARRAY<BIGINT>",
                        true));
        tables.executeSql(
                kafkaTable("classes", "tok-out", "id STRING, logits ARRAY<FLOAT>", false));
        tables.executeSql(
                "CREATE MODEL token_model INPUT (ids ARRAY<BIGINT>, mask ARRAY<BIGINT>) OUTPUT (logits ARRAY<FLOAT>)"
                        + " WITH ('provider' = 'auto', 'model' = '"
                        + TestModels.path(TestModels.TOKENS)
                        + "')");
        tables.executeSql(
                        "INSERT INTO classes SELECT id, logits FROM ML_PREDICT(TABLE tokens, MODEL token_model,"
                                + " DESCRIPTOR(ids, mask), MAP['max-concurrent-operations', '64'])")
                .await(120, TimeUnit.SECONDS);

        Map<String, JsonNode> results = consume("tok-out", rows, false);
        assertThat(results).hasSize(rows);
        try (OnnxReference reference = new OnnxReference(TestModels.path(TestModels.TOKENS))) {
            for (Map.Entry<String, JsonNode> result : results.entrySet()) {
                long[][] in = inputs.get(result.getKey());
                Map<String, float[]> expected =
                        reference.run(
                                request(
                                        result.getKey(),
                                        tensor("ids", DataType.INT64, 16, longBytes(in[0])),
                                        tensor("mask", DataType.INT64, 16, longBytes(in[1]))));
                assertThat(floats(result.getValue().get("logits")))
                        .as(result.getKey())
                        .containsExactly(expected.get("logits"), within(1e-5f));
            }
        }
    }

    /** Rows a null, a short array and a NaN (rejected); the others run as usual. */
    private static final String BAD_ROWS =
            "CREATE TEMPORARY VIEW mixed AS SELECT * FROM (VALUES"
                    + " ('good', CAST(ARRAY[1, 2, 3, 4, 5, 6, 7, 8] AS ARRAY<FLOAT>), CAST(ARRAY[0, 0, 0, 0, 0, 0, 0, 0] AS ARRAY<FLOAT>)),"
                    + " ('null', CAST(NULL AS ARRAY<FLOAT>), CAST(ARRAY[0, 0, 0, 0, 0, 0, 0, 0] AS ARRAY<FLOAT>)),"
                    + " ('short', CAST(ARRAY[1, 2, 3] AS ARRAY<FLOAT>), CAST(ARRAY[0, 0, 0, 0, 0, 0, 0, 0] AS ARRAY<FLOAT>)),"
                    + " ('nan', CAST(ARRAY[1, 2, 3, 4, 5, 6, 7, 8] AS ARRAY<FLOAT>),"
                    + "   ARRAY[NOT_A_NUMBER(), 0, 0, 0, 0, 0, 0, 0]),"
                    + " ('good2', CAST(ARRAY[8, 7, 6, 5, 4, 3, 2, 1] AS ARRAY<FLOAT>), CAST(ARRAY[1, 1, 1, 1, 1, 1, 1, 1] AS ARRAY<FLOAT>)))"
                    + " AS t(id, a, b)";

    /** NaN at run time: a NaN literal would be folded by the planner, which cannot. */
    public static final class NotANumber extends ScalarFunction {
        public Float eval() {
            return Float.NaN;
        }

        @Override
        public boolean isDeterministic() {
            return false;
        }
    }

    private static TableEnvironment badRowTables(String strategy) {
        TableEnvironment tables = tables();
        tables.createTemporarySystemFunction("NOT_A_NUMBER", NotANumber.class);
        tables.executeSql(BAD_ROWS);
        tables.executeSql(badRowModel(strategy));
        return tables;
    }

    private static String badRowModel(String strategy) {
        return "CREATE MODEL strict INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>) OUTPUT (distance FLOAT, error STRING)"
                + " WITH ('provider' = 'onnxruntime', 'model' = '"
                + TWO_IN_TWO_OUT
                + "', 'reject-non-finite' = 'true',"
                + " 'error-handling-strategy' = '"
                + strategy
                + "')";
    }

    @Test
    void badRowsAreEmittedWithNullOutputsAndTheirReason() throws Exception {
        TableEnvironment tables = badRowTables("EMIT");
        Map<String, Row> out = new HashMap<>();
        try (CloseableIterator<Row> rows =
                tables.executeSql(
                                "SELECT id, distance, error FROM ML_PREDICT("
                                        + "TABLE mixed, MODEL strict, DESCRIPTOR(a, b))")
                        .collect()) {
            rows.forEachRemaining(row -> out.put((String) row.getField("id"), row));
        }
        assertThat(out).containsOnlyKeys("good", "null", "short", "nan", "good2");
        assertThat(out.get("good").getField("distance")).isNotNull();
        assertThat(out.get("good").getField("error")).isNull();
        assertThat(out.get("good2").getField("distance")).isNotNull();
        assertThat(out.get("null").getField("distance")).isNull();
        assertThat(out.get("null").getField("error")).isEqualTo("INPUT column 'a' is null");
        assertThat(out.get("short").getField("distance")).isNull();
        assertThat(out.get("short").getField("error"))
                .isEqualTo(
                        "INPUT column 'a' has 3 elements; tensor 'a' (a:FLOAT32[N, 8]) takes 8 per row");
        assertThat(out.get("nan").getField("distance")).isNull();
        assertThat((String) out.get("nan").getField("error"))
                .startsWith("INPUT column 'b' holds NaN or Inf at element 0");
    }

    @Test
    void aBadRowFailsTheJobUnderFailover() {
        TableEnvironment tables = badRowTables("FAILOVER");
        assertThatThrownBy(
                        () -> {
                            try (CloseableIterator<Row> rows =
                                    tables.executeSql(
                                                    "SELECT id, distance, error FROM ML_PREDICT("
                                                            + "TABLE mixed, MODEL strict, DESCRIPTOR(a, b))")
                                            .collect()) {
                                rows.forEachRemaining(row -> {});
                            }
                        })
                .hasStackTraceContaining(
                        "INPUT column 'a' is null ('error-handling-strategy' = 'FAILOVER')");
    }

    /**
     * Fails the task the first time it sees each of a few ids: rows are in flight in ML_PREDICT
     * then.
     */
    public static final class InjectedFailure extends ScalarFunction {
        static final Set<String> AT = Set.of("e1200", "e2600");
        static final Set<String> FIRED = ConcurrentHashMap.newKeySet();

        public String eval(String id) {
            if (AT.contains(id) && FIRED.add(id)) {
                throw new IllegalStateException("Injected failure at row " + id);
            }
            return id;
        }
    }

    @BeforeEach
    void noFailureInjectedYet() {
        InjectedFailure.FIRED.clear();
    }

    @Test
    void exactlyOnceThroughInjectedTaskFailures() throws Exception {
        int rows = 4000;
        int nanEvery = 97;
        TableEnvironment tables = tables();
        tables.getConfig().set("execution.checkpointing.interval", "300 ms");
        tables.getConfig().set("restart-strategy.type", "fixed-delay");
        tables.getConfig().set("restart-strategy.fixed-delay.attempts", "20");
        tables.getConfig().set("restart-strategy.fixed-delay.delay", "200 ms");
        tables.createTemporarySystemFunction("INJECT_FAILURE", InjectedFailure.class);
        KAFKA.createTopics(1, "eo-in", "eo-out");
        tables.executeSql(
                kafkaTable(
                        "requests", "eo-in", "id STRING, a ARRAY<FLOAT>, b ARRAY<FLOAT>", false));
        tables.executeSql(
                kafkaTable(
                        "results",
                        "eo-out",
                        "id STRING, distance FLOAT, error STRING",
                        ", 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'eo-sql',"
                                + " 'properties.transaction.timeout.ms' = '900000'"));
        tables.executeSql(
                "CREATE MODEL m INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>) OUTPUT (distance FLOAT, error STRING)"
                        + " WITH ('provider' = 'onnxruntime', 'model' = '"
                        + TWO_IN_TWO_OUT
                        + "', 'reject-non-finite' = 'true',"
                        + " 'max-batch' = '32')");
        JobClient job =
                tables.executeSql(
                                "INSERT INTO results SELECT INJECT_FAILURE(id), distance, error FROM"
                                        + " ML_PREDICT(TABLE requests, MODEL m, DESCRIPTOR(a, b), MAP['max-concurrent-operations', '128'])")
                        .getJobClient()
                        .orElseThrow();

        ExecutorService sender = Executors.newSingleThreadExecutor();
        Map<String, JsonNode> seen;
        try {
            Future<?> sending =
                    sender.submit(
                            () -> { // paced (about 4 s), so that checkpoints complete between
                                // failures
                                Random random = new Random(3);
                                List<ObjectNode> records = new ArrayList<>();
                                for (int i = 0; i < rows; i++) {
                                    float[] b = randomFloats(random, 8);
                                    if (i % nanEvery == 0) {
                                        b[0] = Float.NaN;
                                    }
                                    ObjectNode record = JSON.createObjectNode().put("id", "e" + i);
                                    record.set("a", JSON.valueToTree(randomFloats(random, 8)));
                                    record.set("b", JSON.valueToTree(b));
                                    records.add(record);
                                    if (records.size() == 100) {
                                        produce("eo-in", records);
                                        records.clear();
                                        TimeUnit.MILLISECONDS.sleep(100);
                                    }
                                }
                                produce("eo-in", records);
                                return null;
                            });
            seen = consume("eo-out", rows, true);
            sending.get(30, TimeUnit.SECONDS);
        } finally {
            sender.shutdownNow();
        }
        long restarts = restarts(job.getJobID());
        job.cancel().get(30, TimeUnit.SECONDS);

        assertThat(InjectedFailure.FIRED).containsExactlyInAnyOrderElementsOf(InjectedFailure.AT);
        assertThat(restarts).as("job restarts").isGreaterThanOrEqualTo(InjectedFailure.AT.size());
        assertThat(seen).as("ids each read once (read_committed)").hasSize(rows);
        long badRows = seen.values().stream().filter(row -> !row.get("error").isNull()).count();
        assertThat(badRows).isEqualTo((rows + nanEvery - 1) / nanEvery);
    }

    // ---------------------------------------------------------------------------------------------

    private static TableEnvironment tables() {
        TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tables.getConfig().set("parallelism.default", "1");
        tables.getConfig().set("restart-strategy.type", "none");
        return tables;
    }

    /** A Kafka table in JSON; {@code bounded}: it ends at the offsets of when the job starts. */
    private static String kafkaTable(String name, String topic, String columns, boolean bounded) {
        return kafkaTable(
                name, topic, columns, bounded ? ", 'scan.bounded.mode' = 'latest-offset'" : "");
    }

    private static String kafkaTable(
            String name, String topic, String columns, String moreOptions) {
        return "CREATE TABLE "
                + name
                + " ("
                + columns
                + ") WITH ('connector' = 'kafka', 'topic' = '"
                + topic
                + "',"
                + " 'properties.bootstrap.servers' = '"
                + KAFKA.bootstrapServers()
                + "', 'properties.group.id' = '"
                + name
                + "', 'scan.startup.mode' = 'earliest-offset', 'format' = 'json'"
                + moreOptions
                + ")";
    }

    private static void produce(String topic, List<ObjectNode> records) throws Exception {
        Properties config = KAFKA.clientProperties();
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            for (ObjectNode record : records) {
                producer.send(new ProducerRecord<>(topic, JSON.writeValueAsString(record)));
            }
        }
    }

    /**
     * Reads records until {@code count} distinct ids (then a little longer, to catch a late
     * duplicate); fails on an id read twice.
     */
    private static Map<String, JsonNode> consume(String topic, int count, boolean readCommitted)
            throws Exception {
        Properties config = KAFKA.clientProperties();
        config.put("group.id", topic + "-reader");
        config.put("auto.offset.reset", "earliest");
        config.put("isolation.level", readCommitted ? "read_committed" : "read_uncommitted");
        Map<String, JsonNode> seen = new HashMap<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            long settleUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settleUntil)) {
                for (ConsumerRecord<String, String> record :
                        consumer.poll(Duration.ofMillis(200))) {
                    JsonNode row = JSON.readTree(record.value());
                    assertThat(seen.put(row.get("id").asText(), row))
                            .as("duplicate " + row)
                            .isNull();
                }
                if (seen.size() >= count && settleUntil == Long.MAX_VALUE) {
                    settleUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
                }
            }
        }
        return seen;
    }

    private static JobID jobId(TableResult result) {
        return result.getJobClient().orElseThrow().getJobID();
    }

    /** The batch sizes of the job's one inference subtask. */
    private static HistogramStatistics batchSizes(JobID job) {
        Map<String, Metric> histograms = METRICS.findMetrics(job, "inference.batch_size");
        assertThat(histograms).as("inference.batch_size metrics of job " + job).hasSize(1);
        return ((Histogram) histograms.values().iterator().next()).getStatistics();
    }

    @SuppressWarnings("unchecked")
    private static long restarts(JobID job) {
        return METRICS.findMetrics(job, "numRestarts").values().stream()
                .mapToLong(m -> ((Gauge<Long>) m).getValue())
                .max()
                .orElse(-1);
    }

    private static float[] randomFloats(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).floatValue();
        }
        return values;
    }

    private static ByteBuffer floatBytes(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return bytes;
    }

    private static ByteBuffer longBytes(long[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return bytes;
    }

    private static Tensor tensor(String name, DataType dtype, long elements, ByteBuffer data) {
        return Tensor.newBuilder()
                .setName(name)
                .setDtype(dtype)
                .setShape(List.of(1L, elements))
                .setData(data)
                .build();
    }

    private static InferenceRequest request(String id, Tensor... tensors) {
        return InferenceRequest.newBuilder()
                .setId(id)
                .setMetadata(Map.of())
                .setTensors(List.of(tensors))
                .build();
    }
}
