package io.flinktrt.tools.bench;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.text.TextAnswers;
import io.flinktrt.text.TextSettings;
import io.flinktrt.text.TextTokenizer;
import io.flinktrt.tools.local.LocalRunReport;
import io.flinktrt.wire.AvroCodec;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Issue 22's text figures, for one model and one set of texts ({@link TextLengths}' log-normal
 * set): the tokenizer alone on one thread; texts/s of the operator's scheduler and runner fed ids
 * (every text tokenized before the clock starts: the reference), the same fed text (tokenized on
 * the copy threads), the operator in Flink fed text, the Kafka job fed text and ML_PREDICT fed text
 * from Kafka, each as a ratio to the reference; then the operator in Flink at half its text rate:
 * p50 and p99 by length bucket next to max-delay + 2 x the mean backend time of that bucket's
 * batches. Every path gives the same answer: a mean-pooled embedding from hidden states, or the top
 * label from logits. On the GPU host: {@code scripts/gpu-bench.sh text-ratios}.
 *
 * <p>Ids sent as tensor requests are no reference: a tensor request fills the model's longest
 * length, so on a model with a dynamic sequence length it runs at 128 where its text runs at its
 * bucket.
 *
 * <pre>java -cp 'lib/*' io.flinktrt.tools.bench.TextRatios MODEL TOKENIZER [TEXTS] [MAX_BATCH]
 *     [SEQUENCE_LENGTHS|-] [LATENCY_SECONDS]</pre>
 */
public final class TextRatios {

    private static final int BUFFERS = SqlVsDataStream.BUFFERS;
    private static final Duration MAX_DELAY = SqlVsDataStream.MAX_DELAY;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The answer in ML_PREDICT's terms: its OUTPUT columns and the options that make it. */
    private record SqlAnswer(String outputColumns, String options) {}

    private TextRatios() {}

    public static void main(String[] args) throws Exception {
        TextBenchArgs given = TextBenchArgs.parse(args, "TextRatios", " [LATENCY_SECONDS=10]");
        int latencySeconds = given.rest().length > 0 ? Integer.parseInt(given.rest()[0]) : 10;
        Backends.Selection selection = Backends.select(Backends.AUTO, given.model());
        InferenceFunctionBuilder operator =
                SqlVsDataStream.operator(
                                given.model(), selection.backend().name(), given.maxBatch())
                        .setSequenceLengths(given.lengths())
                        .setTokenizer(given.tokenizer());
        List<String> texts = TextLengths.texts(given.texts(), 2);
        List<String> warmUp = TextLengths.texts(Math.min(given.texts(), 5_000), 1);
        BenchTable table = new BenchTable();
        ModelSignature signature;
        SqlAnswer sqlAnswer;
        int[] buckets;
        double ids;
        try (GpuBusy gpu = new GpuBusy(0)) {
            // the runner is closed before the Flink runs open theirs: one holds the device at once
            try (ModelRunner runner = selection.backend().open(given.runnerConfig(BUFFERS))) {
                signature = runner.signature();
                TextTokenizer tokenizer =
                        TextTokenizer.open(given.tokenizer(), signature, 0, "max-text-tokens");
                sqlAnswer = answer(signature, operator);
                TextAnswers answers = TextAnswers.open(operator.textSettings(), signature);
                System.out.printf(
                        "model %s on %s, %d texts, max batch %d, max delay %d ms, %d buffers,"
                                + " sequence lengths %s, answer %s%n",
                        given.model().getFileName(),
                        runner.backendName(),
                        given.texts(),
                        given.maxBatch(),
                        MAX_DELAY.toMillis(),
                        BUFFERS,
                        signature.sequence().varies()
                                ? signature.sequence().lengths()
                                : "fixed at " + tokenizer.sequenceLength(),
                        sqlAnswer.outputColumns());
                buckets = buckets(signature, tokenizer, tokenizerAlone(tokenizer, texts));
                TextLengths.run(runner, tokenizer, answers, warmUp, given.maxBatch(), false);
                TextLengths.Run reference =
                        TextLengths.run(runner, tokenizer, answers, texts, given.maxBatch(), true);
                ids = reference.textsPerSecond();
                add(
                        table,
                        "ids: scheduler+runner",
                        given.maxBatch(),
                        ids,
                        reference,
                        "every text tokenized before the clock: the reference",
                        gpu);
                add(
                        table,
                        "text: scheduler+runner",
                        given.maxBatch(),
                        ids,
                        TextLengths.run(runner, tokenizer, answers, texts, given.maxBatch(), false),
                        "tokenized on the copy threads",
                        gpu);
            }
            List<byte[]> payloads = textPayloads(texts);
            OperatorThroughput.recordsPerSecond(textPayloads(warmUp), operator, 1, warmUp.size());
            double inFlink =
                    OperatorThroughput.recordsPerSecond(payloads, operator, 1, given.texts());
            table.add(
                    new BenchTable.Row(
                            "text: operator in Flink",
                            given.maxBatch(),
                            1,
                            inFlink,
                            ids,
                            "memory source of Avro text requests; tokenized on the copy threads"));
            try (KafkaJobThroughput jobs = new KafkaJobThroughput()) {
                LocalRunReport job =
                        jobs.run(
                                signature,
                                operator,
                                1,
                                given.texts(),
                                0,
                                i -> textRequest("", texts.get(i)));
                table.add(
                        new BenchTable.Row(
                                "text: Kafka job",
                                given.maxBatch(),
                                1,
                                job.throughput(),
                                ids,
                                String.format(
                                        "Kafka->Flink->Kafka, all sent at once%s; %s",
                                        job.complete() ? "" : ", INCOMPLETE",
                                        gpu.describe(job.startNanos(), job.lastResultNanos()))));
            }
            String backend = selection.backend().name();
            sqlFromKafka(given, backend, sqlAnswer, warmUp);
            table.add(
                    new BenchTable.Row(
                            "text: SQL ML_PREDICT",
                            given.maxBatch(),
                            1,
                            sqlFromKafka(given, backend, sqlAnswer, texts),
                            ids,
                            "JSON rows from Kafka, INPUT (text STRING)"));
            table.print(System.out);
            System.out.println("ratio: texts/s over those of the ids row (the target: >= 0.9)");
            latency(operator, texts, buckets, (int) Math.max(1, inFlink / 2), latencySeconds);
        }
    }

    /**
     * Sets the answer every path gives on {@code operator} (mean pooling of hidden states [tokens,
     * hidden]; the top label of logits [classes], labels "label-0"... in a temporary file) and
     * returns it in ML_PREDICT's terms.
     */
    private static SqlAnswer answer(ModelSignature signature, InferenceFunctionBuilder operator)
            throws IOException {
        TensorSpec output = signature.outputs().get(0);
        if (output.sampleShape().length == 2) {
            operator.setPooling(TextSettings.Pooling.MEAN, false);
            return new SqlAnswer("embedding ARRAY<FLOAT>", "'pooling' = 'mean'");
        }
        Path labels = Files.createTempFile("text-ratios-labels", ".txt");
        Files.write(
                labels,
                IntStream.range(0, (int) output.sampleElements())
                        .mapToObj(i -> "label-" + i)
                        .toList());
        operator.setTopK(1, labels.toString());
        return new SqlAnswer("label STRING", "'labels' = '" + labels + "'");
    }

    /**
     * Tokenizes every text on this thread, twice (the first pass warms up), and prints the second
     * pass; returns each text's token count.
     */
    private static int[] tokenizerAlone(TextTokenizer tokenizer, List<String> texts)
            throws RequestRejectedException {
        int[] tokens = new int[texts.size()];
        double seconds = 0;
        for (int pass = 0; pass < 2; pass++) {
            long start = System.nanoTime();
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = tokenizer.tokenize(texts.get(i)).ids().length;
            }
            seconds = (System.nanoTime() - start) / 1e9;
        }
        System.out.printf(
                "tokenizer alone, one thread: %d texts, %.1f tokens a text, %.1f us a text,"
                        + " %.0f texts/s%n",
                tokens.length,
                IntStream.of(tokens).average().orElse(0),
                seconds * 1e6 / tokens.length,
                tokens.length / seconds);
        return tokens;
    }

    /** The length each text runs at: its bucket, or the model's one length. */
    private static int[] buckets(ModelSignature signature, TextTokenizer tokenizer, int[] tokens) {
        return IntStream.of(tokens)
                .map(
                        t ->
                                signature.sequence().varies()
                                        ? signature.sequence().bucketFor(t)
                                        : tokenizer.sequenceLength())
                .toArray();
    }

    /** A row of the scheduler and runner, with the GPU's busy share while it ran. */
    private static void add(
            BenchTable table,
            String stage,
            int maxBatch,
            double ids,
            TextLengths.Run run,
            String note,
            GpuBusy gpu) {
        long end = System.nanoTime();
        table.add(
                new BenchTable.Row(
                        stage,
                        maxBatch,
                        1,
                        run.textsPerSecond(),
                        ids,
                        note + "; " + gpu.describe(end - (long) (run.seconds() * 1e9), end)));
        System.out.println("  " + stage + ": " + run.describe());
    }

    private static InferenceRequest textRequest(String id, String text) {
        return new InferenceRequest(id, Map.of(), List.of(), text, null);
    }

    private static List<byte[]> textPayloads(List<String> texts) {
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        List<byte[]> payloads = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            payloads.add(codec.encode(textRequest("text-" + i, texts.get(i))));
        }
        return payloads;
    }

    /** ML_PREDICT over {@code texts} as JSON rows {id, text} from Kafka: rows per second. */
    private static double sqlFromKafka(
            TextBenchArgs given, String backend, SqlAnswer answer, List<String> texts)
            throws Exception {
        String createModel =
                "CREATE TEMPORARY MODEL m INPUT (text STRING) OUTPUT ("
                        + answer.outputColumns()
                        + ") WITH ('provider' = '"
                        + backend
                        + "', 'model' = '"
                        + given.model()
                        + "', 'tokenizer' = '"
                        + given.tokenizer()
                        + "', "
                        + answer.options()
                        + ", 'max-batch' = '"
                        + given.maxBatch()
                        + "', 'max-delay' = '"
                        + MAX_DELAY.toMillis()
                        + " ms', 'buffers' = '"
                        + BUFFERS
                        + "'"
                        + (given.lengths().isEmpty()
                                ? ""
                                : ", 'sequence-lengths' = '"
                                        + given.lengths().stream()
                                                .map(String::valueOf)
                                                .collect(Collectors.joining(","))
                                        + "'")
                        + ")";
        return SqlVsDataStream.sqlFromKafka(
                "id BIGINT, text STRING",
                i -> JSON.createObjectNode().put("id", (long) i).put("text", texts.get(i)),
                texts.size(),
                tables ->
                        SqlVsDataStream.timePredict(
                                tables,
                                createModel,
                                "text",
                                (BUFFERS + 1) * given.maxBatch(),
                                texts.size()));
    }

    /**
     * The operator in Flink fed text at {@code rate}: latency by length bucket against max-delay +
     * 2 x the mean backend time of the batches that bucket's texts ran in.
     */
    private static void latency(
            InferenceFunctionBuilder operator,
            List<String> texts,
            int[] buckets,
            int rate,
            int seconds)
            throws Exception {
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        OperatorLatency.PacedLoad load =
                new OperatorLatency.PacedLoad() {
                    @Override
                    public RequestRecord request(int slot, long index, String id) {
                        return RequestRecord.of(
                                codec.encode(
                                        textRequest(id, texts.get((int) (index % texts.size())))));
                    }

                    @Override
                    public int group(long index) {
                        return buckets[(int) (index % buckets.length)];
                    }
                };
        OperatorLatency.Figure figure =
                OperatorLatency.run(slots -> load, operator, rate, Duration.ofSeconds(seconds));
        System.out.printf(
                "latency, operator in Flink fed text at %,d texts/s (half its rate above) for %d s,"
                        + " answered at %,.0f/s: %s%n",
                rate, seconds, figure.resultsPerSecond(), figure.latency().summary());
        figure.groups()
                .forEach(
                        (bucket, group) -> {
                            double computeMs = group.batchComputeMicros() / 1000;
                            double bound = MAX_DELAY.toMillis() + 2 * computeMs;
                            double p99 = group.latency().percentile(99) / 1000.0;
                            System.out.printf(
                                    "  length %d: %,d texts, p50 %.1f ms, p99 %.1f ms; its batches"
                                            + " %.2f ms on the backend (mean); max-delay + 2 x that"
                                            + " = %.1f ms: p99 %s%n",
                                    bucket,
                                    group.latency().count(),
                                    group.latency().percentile(50) / 1000.0,
                                    p99,
                                    computeMs,
                                    bound,
                                    p99 <= bound ? "within" : "ABOVE");
                        });
    }
}
