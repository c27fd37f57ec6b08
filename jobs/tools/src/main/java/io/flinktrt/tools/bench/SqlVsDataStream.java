package io.flinktrt.tools.bench;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * ML_PREDICT next to the DataStream operator in one run, on the same model, batch settings and row
 * count: fed from memory, then from Kafka (JSON rows for SQL, Avro requests for the operator).
 * Prints rows per second of each and the SQL/DataStream ratios. The model's inputs must be INT64,
 * INT32 or FLOAT32 (the BERT-like encoder's are INT64). On the GPU host: {@code
 * scripts/gpu-bench.sh sql-bert}.
 *
 * <pre>java -cp 'lib/*' io.flinktrt.tools.bench.SqlVsDataStream MODEL [ROWS] [MAX_BATCH]</pre>
 */
public final class SqlVsDataStream {

    static final int BUFFERS = 3;
    static final Duration MAX_DELAY = Duration.ofMillis(5);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong ROWS = new AtomicLong();
    private static final AtomicLong FIRST_NANOS = new AtomicLong();
    private static final AtomicLong LAST_NANOS = new AtomicLong();

    private SqlVsDataStream() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println(
                    "usage: SqlVsDataStream MODEL [ROWS (default 20000)] [MAX_BATCH (default: the model's)]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int requestedBatch = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        Backends.Selection selection = Backends.select(Backends.AUTO, model);
        ModelSignature signature = Backends.describe(selection.backend().name(), model);
        int maxBatch = requestedBatch > 0 ? requestedBatch : signature.maxBatchSize();
        System.out.printf(
                "model %s on %s, %d rows, max batch %d, max delay 5 ms, %d buffers%n",
                signature.modelName(), selection.backend().name(), rows, maxBatch, BUFFERS);
        InferenceFunctionBuilder operator = operator(model, selection.backend().name(), maxBatch);

        // warm-up of both paths (JIT, engine, ONNX sessions), so that neither pays it in its figure
        OperatorThroughput.recordsPerSecond(signature, operator, 1, Math.min(rows, 2_000));
        sqlFromMemory(model, selection.backend().name(), signature, Math.min(rows, 2_000));
        double dataStreamMemory = OperatorThroughput.recordsPerSecond(signature, operator, 1, rows);
        double sqlMemory = sqlFromMemory(model, selection.backend().name(), signature, rows);
        double dataStreamKafka;
        try (KafkaJobThroughput jobs = new KafkaJobThroughput()) {
            dataStreamKafka = jobs.run(signature, operator, 1, rows, 0).throughput();
        }
        double sqlKafka = sqlFromKafka(model, selection.backend().name(), signature, rows);
        System.out.printf(
                Locale.ROOT,
                "from memory: DataStream %.0f rows/s, SQL %.0f rows/s, SQL/DataStream %.2f%n",
                dataStreamMemory,
                sqlMemory,
                sqlMemory / dataStreamMemory);
        System.out.printf(
                Locale.ROOT,
                "from Kafka:  DataStream %.0f rows/s, SQL %.0f rows/s, SQL/DataStream %.2f%n",
                dataStreamKafka,
                sqlKafka,
                sqlKafka / dataStreamKafka);
    }

    /**
     * The operator both benches run: {@link #BUFFERS} buffer sets, max delay {@link #MAX_DELAY}.
     */
    static InferenceFunctionBuilder operator(Path model, String backend, int maxBatch) {
        return InferenceFunction.builder()
                .setModel(model.toString())
                .setBackend(backend)
                .setMaxBatchSize(maxBatch)
                .setBuffersInFlight(BUFFERS)
                .setMaxDelay(MAX_DELAY);
    }

    /**
     * A sequence source turned into rows of cached arrays, through ML_PREDICT, into a counting
     * sink.
     */
    private static double sqlFromMemory(
            Path model, String provider, ModelSignature signature, int rows) throws Exception {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        Object[][] samples = samples(signature, 64);
        List<TensorSpec> inputs = signature.inputs();
        String[] names = new String[inputs.size() + 1];
        TypeInformation<?>[] types = new TypeInformation<?>[inputs.size() + 1];
        names[0] = "id";
        types[0] = Types.LONG;
        for (int i = 0; i < inputs.size(); i++) {
            names[i + 1] = inputs.get(i).name();
            types[i + 1] =
                    switch (inputs.get(i).dtype()) {
                        case INT64 -> Types.PRIMITIVE_ARRAY(Types.LONG);
                        case INT32 -> Types.PRIMITIVE_ARRAY(Types.INT);
                        default -> Types.PRIMITIVE_ARRAY(Types.FLOAT);
                    };
        }
        tables.createTemporaryView(
                "requests",
                env.fromSequence(0, rows - 1)
                        .map(
                                i -> {
                                    Row row = new Row(names.length);
                                    row.setField(0, i);
                                    Object[] sample = samples[(int) (i % samples.length)];
                                    for (int t = 0; t < sample.length; t++) {
                                        row.setField(t + 1, sample[t]);
                                    }
                                    return row;
                                })
                        .returns(Types.ROW_NAMED(names, types)));
        return timeSql(tables, model, provider, signature, rows);
    }

    /** The model's input tensors as JSON rows through Kafka. */
    private static double sqlFromKafka(
            Path model, String provider, ModelSignature signature, int rows) throws Exception {
        Object[][] samples = samples(signature, 64);
        return sqlFromKafka(
                "id BIGINT, " + inputColumns(signature),
                i -> {
                    ObjectNode row = JSON.createObjectNode().put("id", (long) i);
                    for (int t = 0; t < signature.inputs().size(); t++) {
                        row.set(
                                signature.inputs().get(t).name(),
                                JSON.valueToTree(samples[i % samples.length][t]));
                    }
                    return row;
                },
                rows,
                tables -> timeSql(tables, model, provider, signature, rows));
    }

    /**
     * {@code rows} JSON rows ({@code rowAt}) produced to an embedded Kafka first, read by a bounded
     * Kafka table {@code requests (columns)}; {@code predict} runs ML_PREDICT over it and returns
     * its rows per second.
     */
    static double sqlFromKafka(
            String columns,
            IntFunction<ObjectNode> rowAt,
            int rows,
            ToDoubleFunction<StreamTableEnvironment> predict)
            throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            EmbeddedKafka.createTopics(kafka.clientProperties(), 1, List.of("sql-bench"));
            try (KafkaProducer<String, String> producer =
                    new KafkaProducer<>(
                            kafka.clientProperties(),
                            new StringSerializer(),
                            new StringSerializer())) {
                for (int i = 0; i < rows; i++) {
                    producer.send(
                            new ProducerRecord<>(
                                    "sql-bench", JSON.writeValueAsString(rowAt.apply(i))));
                }
            }
            StreamTableEnvironment tables =
                    StreamTableEnvironment.create(
                            StreamExecutionEnvironment.createLocalEnvironment(
                                    1, new Configuration()));
            tables.executeSql(
                    "CREATE TABLE requests ("
                            + columns
                            + ") WITH ("
                            + "'connector' = 'kafka', 'topic' = 'sql-bench', 'properties.bootstrap.servers' = '"
                            + kafka.bootstrapServers()
                            + "', 'properties.group.id' = 'sql-bench', 'scan.startup.mode' ="
                            + " 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json')");
            return predict.applyAsDouble(tables);
        }
    }

    private static double timeSql(
            StreamTableEnvironment tables,
            Path model,
            String provider,
            ModelSignature signature,
            int rows) {
        int maxBatch = signature.maxBatchSize();
        String output = signature.outputs().get(0).name();
        return timePredict(
                tables,
                "CREATE TEMPORARY MODEL m INPUT ("
                        + inputColumns(signature)
                        + ") OUTPUT ("
                        + output
                        + " ARRAY<FLOAT>) WITH ('provider' = '"
                        + provider
                        + "', 'model' = '"
                        + model
                        + "', 'max-batch' = '"
                        + maxBatch
                        + "', 'max-delay' = '5 ms', 'buffers' = '"
                        + BUFFERS
                        + "')",
                signature.inputs().stream().map(TensorSpec::name).collect(Collectors.joining(", ")),
                (BUFFERS + 1) * maxBatch,
                rows);
    }

    /**
     * Rows per second of ML_PREDICT over table {@code requests} with the model {@code createModel}
     * makes (named m), its {@code descriptor} columns fed, {@code concurrent} rows in flight, into
     * a counting sink, from the first result to the last.
     */
    static double timePredict(
            StreamTableEnvironment tables,
            String createModel,
            String descriptor,
            int concurrent,
            int rows) {
        ROWS.set(0);
        FIRST_NANOS.set(0);
        tables.getConfig().set("table.dml-sync", "true");
        tables.getConfig().set("pipeline.object-reuse", "true");
        tables.createTemporarySystemFunction("BENCH_COUNT", CountRows.class);
        tables.executeSql(
                "CREATE TEMPORARY TABLE discard (n BOOLEAN) WITH ('connector' = 'blackhole')");
        tables.executeSql(createModel);
        tables.executeSql(
                "INSERT INTO discard SELECT BENCH_COUNT(id) FROM ML_PREDICT(TABLE requests, MODEL m,"
                        + " DESCRIPTOR("
                        + descriptor
                        + "), MAP['max-concurrent-operations', '"
                        + concurrent
                        + "', 'output-mode', 'ALLOW_UNORDERED'])"); // the operator's default order
        if (ROWS.get() != rows) {
            throw new IllegalStateException(
                    "Only " + ROWS.get() + " of " + rows + " rows got a result");
        }
        return (rows - 1) / ((LAST_NANOS.get() - FIRST_NANOS.get()) / 1e9);
    }

    private static String inputColumns(ModelSignature signature) {
        return signature.inputs().stream()
                .map(
                        t ->
                                t.name()
                                        + " ARRAY<"
                                        + switch (t.dtype()) {
                                            case INT64 -> "BIGINT";
                                            case INT32 -> "INT";
                                            default -> "FLOAT";
                                        }
                                        + ">")
                .collect(Collectors.joining(", "));
    }

    /**
     * {@code distinct} rows of random inputs: ids in [0, 100) for integer inputs, Gaussian floats
     * otherwise.
     */
    private static Object[][] samples(ModelSignature signature, int distinct) {
        Random random = new Random(1);
        Object[][] samples = new Object[distinct][];
        for (int s = 0; s < distinct; s++) {
            samples[s] =
                    signature.inputs().stream()
                            .map(
                                    t -> {
                                        int n = (int) t.sampleElements();
                                        return switch (t.dtype()) {
                                            case INT64 ->
                                                    (Object) random.longs(n, 0, 100).toArray();
                                            case INT32 -> random.ints(n, 0, 100).toArray();
                                            case FLOAT32 -> {
                                                float[] values = new float[n];
                                                for (int i = 0; i < n; i++) {
                                                    values[i] = (float) random.nextGaussian();
                                                }
                                                yield values;
                                            }
                                            default ->
                                                    throw new IllegalArgumentException(
                                                            "The SQL bench feeds INT64, INT32 or FLOAT32 inputs, not "
                                                                    + t);
                                        };
                                    })
                            .toArray();
        }
        return samples;
    }

    /** Counts results and times the first and the last, as the operator's bench does. */
    public static final class CountRows extends ScalarFunction {
        public Boolean eval(Long id) {
            long now = System.nanoTime();
            FIRST_NANOS.compareAndSet(0, now);
            LAST_NANOS.accumulateAndGet(now, Math::max);
            ROWS.incrementAndGet();
            return Boolean.TRUE;
        }
    }
}
