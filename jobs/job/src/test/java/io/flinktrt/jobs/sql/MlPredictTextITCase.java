package io.flinktrt.jobs.sql;

import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.text.TextModels;
import io.flinktrt.text.TextReference;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * CREATE MODEL ... INPUT (text STRING) with 'tokenizer' on a MiniCluster: texts tokenized in the
 * task manager, answers (embeddings, labels) equal to {@link TextReference}'s, computed apart from
 * the operator; every kind of bad text a bad row with its reason; mismatches refused at planning.
 */
@Timeout(300)
class MlPredictTextITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(2);

    @TempDir static Path dir;

    private static Path tokenizer;
    private static Path encoder;
    private static Path classifier;
    private static TextModels.Written models;

    /** 150 texts of 1 to 20 words (some cut at the model's 16 tokens), mixed case, some unknown. */
    private static final Map<String, String> TEXTS = new LinkedHashMap<>();

    @BeforeAll
    static void models() throws Exception {
        models = TextModels.writeAll(dir);
        tokenizer = models.tokenizer();
        encoder = models.encoder();
        classifier = models.classifier();
        List<String> words =
                List.of(
                        "the",
                        "Stream",
                        "flink",
                        "model",
                        "runs",
                        "GPU",
                        "batching",
                        "is",
                        "very",
                        "good",
                        "bad",
                        "kafka",
                        "job",
                        "answered",
                        "tokens",
                        "zebra",
                        "!",
                        "?",
                        ",",
                        "I",
                        "love",
                        "hate",
                        "it",
                        "not");
        Random random = new Random(22);
        for (int i = 0; i < 150; i++) {
            int count = 1 + random.nextInt(20);
            List<String> text = new ArrayList<>();
            for (int w = 0; w < count; w++) {
                text.add(words.get(random.nextInt(words.size())));
            }
            TEXTS.put("t" + i, String.join(" ", text));
        }
    }

    @Test
    void meanPooledNormalisedEmbeddingsEqualTheReference() throws Exception {
        Map<String, Row> out = embed("mean");
        try (TextReference reference = new TextReference(tokenizer, encoder);
                HuggingFaceTokenizer whole =
                        HuggingFaceTokenizer.newInstance(
                                tokenizer, Map.of("truncation", "false", "padding", "false"))) {
            int truncated = 0;
            for (Map.Entry<String, String> text : TEXTS.entrySet()) {
                Row row = out.get(text.getKey());
                assertThat(row.getField("error")).as(text.getKey()).isNull();
                assertThat(floats(row.getField("embedding")))
                        .as(text.getValue())
                        .containsExactly(
                                reference.meanPooled(text.getValue(), true), within(1e-5f));
                boolean cut = whole.encode(text.getValue()).getIds().length > TextModels.SEQUENCE;
                assertThat(row.getField("truncated")).as(text.getValue()).isEqualTo(cut);
                truncated += cut ? 1 : 0;
            }
            assertThat(truncated).as("texts cut at 16 tokens").isGreaterThan(10);
        }
    }

    @Test
    void aModelOfDynamicLengthBatchedByLengthGivesTheFixedModelsEmbeddings() throws Exception {
        Map<String, Row> out =
                predictAll(
                        TextModels.writeDynamicEncoder(dir),
                        "embedding ARRAY<FLOAT>, truncated BOOLEAN, error STRING",
                        "'pooling' = 'mean', 'normalize' = 'true', 'sequence-lengths' = '4,8,16'");
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            for (Map.Entry<String, String> text : TEXTS.entrySet()) {
                assertThat(floats(out.get(text.getKey()).getField("embedding")))
                        .as(text.getValue())
                        .containsExactly(
                                reference.meanPooled(text.getValue(), true), within(1e-5f));
            }
        }
    }

    @Test
    void clsPooledNormalisedEmbeddingsEqualTheReference() throws Exception {
        Map<String, Row> out = embed("cls");
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            for (Map.Entry<String, String> text : TEXTS.entrySet()) {
                assertThat(floats(out.get(text.getKey()).getField("embedding")))
                        .as(text.getValue())
                        .containsExactly(
                                normalised(reference.clsPooled(text.getValue())), within(1e-5f));
            }
        }
    }

    @Test
    void labelsAndScoresEqualTheReference() throws Exception {
        Map<String, Row> out =
                predictAll(
                        classifier,
                        "label STRING, score FLOAT, labels ARRAY<STRING>, scores ARRAY<FLOAT>, error STRING",
                        "'labels' = '" + models.labels() + "', 'top-k' = '2'");
        try (TextReference reference = new TextReference(tokenizer, classifier)) {
            for (Map.Entry<String, String> text : TEXTS.entrySet()) {
                Row row = out.get(text.getKey());
                List<Map.Entry<String, Float>> ranked = reference.ranked(text.getValue());
                assertThat(row.getField("error")).isNull();
                assertThat(row.getField("label"))
                        .as(text.getValue())
                        .isEqualTo(ranked.get(0).getKey());
                assertThat((Float) row.getField("score"))
                        .isCloseTo(ranked.get(0).getValue(), within(1e-5f));
                assertThat((String[]) row.getField("labels"))
                        .containsExactly(ranked.get(0).getKey(), ranked.get(1).getKey());
                assertThat(floats(row.getField("scores")))
                        .containsExactly(
                                new float[] {ranked.get(0).getValue(), ranked.get(1).getValue()},
                                within(1e-5f));
            }
        }
    }

    /** A null, an empty and a blank text, and one over max-text-tokens; the others answered. */
    private static final String BAD_TEXTS =
            "CREATE TEMPORARY VIEW bad AS SELECT * FROM (VALUES"
                    + " ('good', 'the stream is good'),"
                    + " ('null', CAST(NULL AS STRING)),"
                    + " ('empty', ''),"
                    + " ('blank', '   '),"
                    + " ('long', 'the model is very very very good and the job is not bad'),"
                    + " ('good2', 'I love kafka')) AS t(id, text)";

    private static TableEnvironment badTextTables(String strategy) {
        TableEnvironment tables = tables();
        tables.executeSql(BAD_TEXTS);
        tables.executeSql(
                "CREATE MODEL strict INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>, error STRING)"
                        + " WITH ('provider' = 'onnxruntime', 'model' = '"
                        + encoder
                        + "', 'tokenizer' = '"
                        + tokenizer
                        + "', 'pooling' = 'mean', 'max-text-tokens' = '10',"
                        + " 'error-handling-strategy' = '"
                        + strategy
                        + "')");
        return tables;
    }

    @Test
    void badTextsAreBadRowsWithTheirReasonAndTheRestAreAnswered() throws Exception {
        TableEnvironment tables = badTextTables("EMIT");
        Map<String, Row> out =
                collect(
                        tables,
                        "SELECT id, embedding, error FROM ML_PREDICT(TABLE bad, MODEL strict, DESCRIPTOR(text))");
        assertThat(out).containsOnlyKeys("good", "null", "empty", "blank", "long", "good2");
        assertThat(out.get("null").getField("error"))
                .isEqualTo("MISSING_TEXT: INPUT column 'text' is null");
        assertThat(out.get("empty").getField("error"))
                .isEqualTo("EMPTY_TEXT: INPUT column 'text' is empty or only white space");
        assertThat(out.get("blank").getField("error"))
                .isEqualTo("EMPTY_TEXT: INPUT column 'text' is empty or only white space");
        assertThat(out.get("long").getField("error"))
                .isEqualTo(
                        "TEXT_TOO_LONG: The text has 15 tokens; at most 10 are taken ('max-text-tokens').");
        for (String bad : List.of("null", "empty", "blank", "long")) {
            assertThat(out.get(bad).getField("embedding")).as(bad).isNull();
        }
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            assertThat(out.get("good").getField("error")).isNull();
            assertThat(floats(out.get("good").getField("embedding")))
                    .containsExactly(
                            reference.meanPooled("the stream is good", false), within(1e-5f));
            assertThat(floats(out.get("good2").getField("embedding")))
                    .containsExactly(reference.meanPooled("I love kafka", false), within(1e-5f));
        }
    }

    @Test
    void aTooLongTextFailsTheJobUnderFailover() {
        TableEnvironment tables = badTextTables("FAILOVER");
        tables.executeSql(
                "CREATE TEMPORARY VIEW long_only AS SELECT * FROM bad WHERE id IN ('good', 'long')");
        assertThatThrownBy(
                        () ->
                                collect(
                                        tables,
                                        "SELECT id, embedding, error FROM ML_PREDICT(TABLE long_only,"
                                                + " MODEL strict, DESCRIPTOR(text))"))
                .hasStackTraceContaining(
                        "TEXT_TOO_LONG: The text has 15 tokens; at most 10 are taken ('max-text-tokens')."
                                + " ('error-handling-strategy' = 'FAILOVER')");
    }

    // planning ------------------------------------------------------------------------------------

    private void plan(Path model, String output, String options) {
        TableEnvironment tables = tables();
        tables.executeSql(
                "CREATE TEMPORARY MODEL m INPUT (text STRING) OUTPUT ("
                        + output
                        + ") WITH ('provider' = 'onnxruntime', 'model' = '"
                        + model
                        + "'"
                        + options
                        + ")");
        tables.explainSql("SELECT * FROM ML_PREDICT(TABLE texts, MODEL m, DESCRIPTOR(text))");
    }

    private String withTokenizer(String more) {
        return ", 'tokenizer' = '" + tokenizer + "'" + more;
    }

    @Test
    void aStringInputWithoutATokenizerIsRefused() {
        assertThatThrownBy(() -> plan(encoder, "embedding ARRAY<FLOAT>", ", 'pooling' = 'mean'"))
                .hasStackTraceContaining(
                        "Model INPUT column 'text' is STRING, which no tensor takes: set 'tokenizer' to a"
                                + " HuggingFace tokenizer.json");
    }

    @Test
    void aModelWithoutInputIdsIsRefused() {
        assertThatThrownBy(
                        () ->
                                plan(
                                        TestModels.path(TestModels.TWO_IN_TWO_OUT),
                                        "embedding ARRAY<FLOAT>",
                                        withTokenizer(", 'pooling' = 'mean'")))
                .hasStackTraceContaining(
                        "Model INPUT column 'text' is text, tokenized with 'tokenizer': Model")
                .hasStackTraceContaining("has no input named input_ids");
    }

    @Test
    void answerColumnsAndOptionsMustAgree() {
        assertThatThrownBy(() -> plan(encoder, "embedding ARRAY<FLOAT>", withTokenizer("")))
                .hasStackTraceContaining(
                        "Model OUTPUT column 'embedding' needs 'pooling' = 'mean' or 'cls'.");
        assertThatThrownBy(
                        () ->
                                plan(
                                        encoder,
                                        "embedding ARRAY<DOUBLE>",
                                        withTokenizer(", 'pooling' = 'mean'")))
                .hasStackTraceContaining(
                        "Model OUTPUT column 'embedding' must be ARRAY<FLOAT>, not ARRAY<DOUBLE>.");
        assertThatThrownBy(() -> plan(classifier, "label STRING, score FLOAT", withTokenizer("")))
                .hasStackTraceContaining(
                        "Model OUTPUT columns [label, score] need 'labels', a file of the classifier's label names.");
        assertThatThrownBy(
                        () ->
                                plan(
                                        encoder,
                                        "hidden ARRAY<FLOAT>",
                                        withTokenizer(", 'pooling' = 'mean'")))
                .hasStackTraceContaining(
                        "Model OUTPUT column 'hidden' is none that a text model gives");
        assertThatThrownBy(
                        () ->
                                plan(
                                        classifier,
                                        "embedding ARRAY<FLOAT>",
                                        withTokenizer(", 'pooling' = 'cls'")))
                .hasStackTraceContaining("cannot be made from the model's outputs")
                .hasStackTraceContaining("Pooling takes hidden states of shape");
        assertThatThrownBy(
                        () ->
                                plan(
                                        encoder,
                                        "embedding ARRAY<FLOAT>, label STRING",
                                        withTokenizer(", 'pooling' = 'mean'")))
                .hasStackTraceContaining("not both");
    }

    @Test
    void textOptionsOnATensorModelAreRefused() {
        TableEnvironment tables = tables();
        tables.executeSql(
                "CREATE TEMPORARY MODEL t INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>) OUTPUT (distance FLOAT)"
                        + " WITH ('provider' = 'onnxruntime', 'model' = '"
                        + TestModels.path(TestModels.TWO_IN_TWO_OUT)
                        + "', 'pooling' = 'mean')");
        tables.executeSql(
                "CREATE TEMPORARY VIEW ab AS SELECT CAST(ARRAY[1.0] AS ARRAY<FLOAT>) AS a,"
                        + " CAST(ARRAY[1.0] AS ARRAY<FLOAT>) AS b");
        assertThatThrownBy(
                        () ->
                                tables.explainSql(
                                        "SELECT * FROM ML_PREDICT(TABLE ab, MODEL t, DESCRIPTOR(a, b))"))
                .hasStackTraceContaining(
                        "'pooling' applies to a text model only (INPUT one STRING column, with 'tokenizer')");
    }

    // ---------------------------------------------------------------------------------------------

    private static Map<String, Row> embed(String pooling) throws Exception {
        return predictAll(
                encoder,
                "embedding ARRAY<FLOAT>, truncated BOOLEAN, error STRING",
                "'pooling' = '" + pooling + "', 'normalize' = 'true'");
    }

    /** Every text of {@link #TEXTS} through {@code model}, by id, in batches of up to 16. */
    private static Map<String, Row> predictAll(Path model, String output, String options)
            throws Exception {
        TableEnvironment tables = tables();
        tables.executeSql(
                "CREATE MODEL m INPUT (text STRING) OUTPUT ("
                        + output
                        + ") WITH ('provider' = 'onnxruntime', 'model' = '"
                        + model
                        + "', 'tokenizer' = '"
                        + tokenizer
                        + "', 'max-batch' = '16', "
                        + options
                        + ")");
        Map<String, Row> out =
                collect(
                        tables,
                        "SELECT * FROM ML_PREDICT(TABLE texts, MODEL m, DESCRIPTOR(text),"
                                + " MAP['max-concurrent-operations', '48'])");
        assertThat(out).hasSize(TEXTS.size());
        return out;
    }

    private static TableEnvironment tables() {
        TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tables.getConfig().set("parallelism.default", "1");
        tables.getConfig().set("restart-strategy.type", "none");
        StringBuilder values = new StringBuilder();
        for (Map.Entry<String, String> text : TEXTS.entrySet()) {
            values.append(values.length() == 0 ? "" : ", ")
                    .append("('")
                    .append(text.getKey())
                    .append("', '")
                    .append(text.getValue())
                    .append("')");
        }
        tables.executeSql(
                "CREATE TEMPORARY VIEW texts AS SELECT * FROM (VALUES "
                        + values
                        + ") AS t(id, text)");
        return tables;
    }

    private static Map<String, Row> collect(TableEnvironment tables, String query)
            throws Exception {
        Map<String, Row> out = new HashMap<>();
        try (CloseableIterator<Row> rows = tables.executeSql(query).collect()) {
            rows.forEachRemaining(row -> out.put((String) row.getField("id"), row));
        }
        return out;
    }

    private static float[] floats(Object array) {
        Float[] boxed = (Float[]) array;
        float[] values = new float[boxed.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = boxed[i];
        }
        return values;
    }

    private static float[] normalised(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += (double) v * v;
        }
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) (values[i] / Math.sqrt(sum));
        }
        return out;
    }
}
