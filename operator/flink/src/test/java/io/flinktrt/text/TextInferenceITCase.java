package io.flinktrt.text;

import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OperatorRuns;
import io.flinktrt.wire.AvroCodec;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import ai.djl.huggingface.tokenizers.Encoding;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.flinktrt.testing.AvroBytes.concat;
import static io.flinktrt.testing.AvroBytes.string;
import static io.flinktrt.testing.AvroBytes.varint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Text in, answers out, on ONNX Runtime through the MiniCluster: every answer equals the model run
 * on the tokenizer's ids one row at a time, and each kind of bad text is its own failure while the
 * good texts of the same batches are answered.
 */
class TextInferenceITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @TempDir static Path dir;

    private static Path tokenizer;
    private static Path encoder;
    private static Path classifier;
    private static Path labels;

    /** 14 words: [CLS] + 14 + [SEP] fill the 16 tokens exactly. */
    static final String FOURTEEN_WORDS =
            "the flink job run a batch and it is fast but not very slow";

    static final List<String> GOOD =
            List.of(
                    "The stream is good!",
                    "gpu",
                    "I love kafka , but I hate slow jobs .",
                    "unknownword answers questions",
                    "running tokens",
                    FOURTEEN_WORDS);

    /** 19 words: 21 tokens, cut at 16 (truncated = true) unless refused. */
    static final String NINETEEN_WORDS = FOURTEEN_WORDS + " and the model was great";

    /** 38 words: 40 tokens, more than max-text-tokens 24. */
    static final String THIRTY_EIGHT_WORDS = NINETEEN_WORDS + " " + NINETEEN_WORDS;

    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

    @BeforeAll
    static void writeModels() throws Exception {
        tokenizer = TextModels.writeTokenizer(dir);
        encoder = TextModels.writeEncoder(dir);
        classifier = TextModels.writeClassifier(dir);
        labels = TextModels.writeLabels(dir);
    }

    @Test
    void theTokenizersNativeLibraryComesFromItsJarIntoTheConfiguredCacheAndNothingIsDownloaded()
            throws Exception {
        // surefire sets ENGINE_CACHE_DIR to target/djl-cache and ai.djl.offline (pom.xml)
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            assertThat(reference.encode("the gpu").getIds()[1]).isEqualTo(4); // "the"
        }
        Path cache = Path.of(System.getProperty("ENGINE_CACHE_DIR"), "tokenizers");
        try (var files = Files.walk(cache)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .contains(System.mapLibraryName("tokenizers"));
        }
    }

    @Test
    void avroTextRequestsGetNormalisedMeanEmbeddingsAndBadTextGoesToTheDeadLetters()
            throws Exception {
        List<RequestRecord> records = new ArrayList<>();
        for (int i = 0; i < GOOD.size(); i++) {
            records.add(text("good-" + i, GOOD.get(i)));
        }
        records.add(text("cut", NINETEEN_WORDS));
        records.add(text("long", THIRTY_EIGHT_WORDS));
        records.add(text("empty", ""));
        records.add(text("blank", "  \t "));
        records.add(
                RequestRecord.of(
                        codec.encode(
                                new InferenceRequest("none", Map.of(), List.of(), null, null))));
        records.add(
                RequestRecord.of(
                        concat(
                                string("latin1"),
                                varint(0),
                                varint(0),
                                varint(1),
                                varint(3),
                                new byte[] {'c', (byte) 0xE9, 'a'})));
        Map<String, InferenceOutcome> outcomes =
                OperatorRuns.outcomesById(
                        records,
                        withTokenizer(encoder)
                                .setMaxTextTokens(24)
                                .setPooling(TextSettings.Pooling.MEAN, true)
                                .build());

        assertThat(outcomes).hasSize(records.size());
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            for (int i = 0; i < GOOD.size(); i++) {
                InferenceResult result = (InferenceResult) outcomes.get("good-" + i).getOutcome();
                assertEmbedding(result, reference.meanPooled(GOOD.get(i), true));
                assertThat(result.getTruncated()).as(GOOD.get(i)).isFalse();
                assertThat(result.getOutputs()).isEmpty();
            }
            InferenceResult cut = (InferenceResult) outcomes.get("cut").getOutcome();
            assertThat(cut.getTruncated()).isTrue();
            assertEmbedding(cut, reference.meanPooled(NINETEEN_WORDS, true));
        }
        assertFailure(outcomes.get("long"), ErrorCode.TEXT_TOO_LONG);
        assertFailure(outcomes.get("empty"), ErrorCode.EMPTY_TEXT);
        assertFailure(outcomes.get("blank"), ErrorCode.EMPTY_TEXT);
        assertFailure(outcomes.get("none"), ErrorCode.MISSING_TEXT);
        assertFailure(outcomes.get("latin1"), ErrorCode.INVALID_UTF8);
    }

    @Test
    void aModelOfDynamicLengthBatchedByLengthGivesTheFixedModelsEmbeddings() throws Exception {
        Path dynamic = TextModels.writeDynamicEncoder(dir);
        List<RequestRecord> records = new ArrayList<>();
        for (int i = 0; i < GOOD.size(); i++) {
            records.add(text("good-" + i, GOOD.get(i)));
        }
        records.add(text("cut", NINETEEN_WORDS));
        records.add(text("long", THIRTY_EIGHT_WORDS));
        records.add(text("empty", ""));
        Map<String, InferenceOutcome> outcomes =
                OperatorRuns.outcomesById(
                        records,
                        byLength(dynamic)
                                .setMaxTextTokens(24)
                                .setPooling(TextSettings.Pooling.MEAN, true)
                                .build());

        assertThat(outcomes).hasSize(records.size());
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            for (int i = 0; i < GOOD.size(); i++) {
                InferenceResult result = (InferenceResult) outcomes.get("good-" + i).getOutcome();
                assertEmbedding(result, reference.meanPooled(GOOD.get(i), true));
            }
            InferenceResult cut = (InferenceResult) outcomes.get("cut").getOutcome();
            assertThat(cut.getTruncated()).isTrue();
            assertEmbedding(cut, reference.meanPooled(NINETEEN_WORDS, true));
        }
        assertFailure(outcomes.get("long"), ErrorCode.TEXT_TOO_LONG);
        assertFailure(outcomes.get("empty"), ErrorCode.EMPTY_TEXT);
    }

    @Test
    void aModelOfDynamicLengthTakesTensorRequestsOfTheirOwnLengthAndCutsHiddenStatesToIt()
            throws Exception {
        Path dynamic = TextModels.writeDynamicEncoder(dir);
        List<RequestRecord> records = new ArrayList<>();
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            for (int i = 0; i < GOOD.size(); i++) {
                records.add(text("text-" + i, GOOD.get(i)));
                records.add(tokens("ids-" + i, reference.encode(GOOD.get(i))));
            }
        }
        Map<String, InferenceOutcome> outcomes =
                OperatorRuns.outcomesById(records, byLength(dynamic).build());

        assertThat(outcomes).hasSize(records.size());
        try (TextReference reference = new TextReference(tokenizer, encoder)) {
            for (int i = 0; i < GOOD.size(); i++) {
                // the fixed model's hidden states at the text's own positions: this toy encoder
                // computes each position alone, so padding changes none of them
                float[] fixed = reference.output(GOOD.get(i));
                int positions = realTokens(reference.encode(GOOD.get(i)));
                for (String id : List.of("text-" + i, "ids-" + i)) {
                    InferenceResult result = (InferenceResult) outcomes.get(id).getOutcome();
                    Tensor hidden = result.getOutputs().get(0);
                    assertThat(hidden.getShape())
                            .as(id)
                            .containsExactly(1L, (long) positions, (long) TextModels.HIDDEN);
                    ByteBuffer values = hidden.getData().order(ByteOrder.LITTLE_ENDIAN);
                    assertThat(values.remaining()).isEqualTo(4 * positions * TextModels.HIDDEN);
                    for (int v = 0; v < positions * TextModels.HIDDEN; v++) {
                        assertThat(values.getFloat(values.position() + 4 * v))
                                .as("%s value %d", id, v)
                                .isCloseTo(fixed[v], within(1e-5f));
                    }
                }
            }
        }
    }

    /** {@code model} on ONNX Runtime with the tokenizer, batches of up to 4 formed within 50 ms. */
    private static InferenceFunctionBuilder withTokenizer(Path model) {
        return InferenceFunction.builder()
                .setModel(model.toString())
                .setBackend("onnxruntime")
                .setMaxBatchSize(4)
                .setMaxDelay(Duration.ofMillis(50))
                .setTokenizer(tokenizer.toString());
    }

    /** The dynamic encoder, batched by length 4, 8 or 16. */
    private static InferenceFunctionBuilder byLength(Path dynamic) {
        return withTokenizer(dynamic).setSequenceLengths(List.of(4, 8, 16));
    }

    /** A tensor request of the encoding's real tokens only (no padding): [1, tokens] each. */
    private RequestRecord tokens(String id, Encoding encoding) {
        int positions = realTokens(encoding);
        List<Tensor> tensors = new ArrayList<>();
        Map<String, long[]> columns =
                Map.of(
                        TextTokenizer.INPUT_IDS, encoding.getIds(),
                        TextTokenizer.ATTENTION_MASK, encoding.getAttentionMask(),
                        TextTokenizer.TOKEN_TYPE_IDS, encoding.getTypeIds());
        columns.forEach(
                (name, values) -> {
                    ByteBuffer data =
                            ByteBuffer.allocate(8 * positions).order(ByteOrder.LITTLE_ENDIAN);
                    for (int t = 0; t < positions; t++) {
                        data.putLong(values[t]);
                    }
                    tensors.add(
                            new Tensor(
                                    name,
                                    DataType.INT64,
                                    List.of(1L, (long) positions),
                                    data.flip()));
                });
        return RequestRecord.of(
                codec.encode(new InferenceRequest(id, Map.of(), tensors, null, null)));
    }

    private static int realTokens(Encoding encoding) {
        int positions = 0;
        for (long m : encoding.getAttentionMask()) {
            positions += (int) m;
        }
        return positions;
    }

    @Test
    void aTextTranslatorOnTheUsersOwnRecordsGivesTheTopLabelsOfTheClassifier() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < GOOD.size(); i++) {
            lines.add(i + "|" + GOOD.get(i));
        }
        lines.add("cut|" + NINETEEN_WORDS);
        lines.add("empty|");
        TextTranslator<String> translator =
                new TextTranslator<>(
                        line -> line.substring(line.indexOf('|') + 1),
                        line -> line.substring(0, line.indexOf('|')),
                        new TextSettings(
                                tokenizer.toString(),
                                0,
                                TextSettings.Pooling.NONE,
                                false,
                                2,
                                labels.toString(),
                                null));
        Map<String, TextAnswer> answers = new HashMap<>();
        InferenceFunction.builder()
                .setModel(classifier.toString())
                .setBackend("onnxruntime")
                .setMaxBatchSize(4)
                .build(translator)
                .applyTo(env.fromData(lines))
                .executeAndCollect()
                .forEachRemaining(answer -> answers.put(answer.id, answer));

        assertThat(answers).hasSize(lines.size());
        try (TextReference reference = new TextReference(tokenizer, classifier)) {
            for (int i = 0; i < GOOD.size(); i++) {
                assertLabels(answers.get(Integer.toString(i)), reference.ranked(GOOD.get(i)));
            }
            assertLabels(answers.get("cut"), reference.ranked(NINETEEN_WORDS));
        }
        assertThat(answers.get("cut").truncated).isTrue();
        assertThat(answers.get("0").truncated).isFalse();
        assertThat(answers.get("empty").error).isEqualTo(ErrorCode.EMPTY_TEXT.name());
    }

    private static void assertLabels(TextAnswer answer, List<Map.Entry<String, Float>> expected) {
        assertThat(answer.error).as("%s", answer).isNull();
        assertThat(answer.labels)
                .containsExactly(expected.get(0).getKey(), expected.get(1).getKey());
        assertThat(answer.scores[0]).isCloseTo(expected.get(0).getValue(), within(1e-5f));
        assertThat(answer.scores[1]).isCloseTo(expected.get(1).getValue(), within(1e-5f));
    }

    private static void assertEmbedding(InferenceResult result, float[] expected) {
        assertThat(result.getEmbedding()).hasSize(expected.length);
        for (int h = 0; h < expected.length; h++) {
            assertThat(result.getEmbedding().get(h))
                    .as("%s dimension %d", result.getId(), h)
                    .isCloseTo(expected[h], within(1e-5f));
        }
    }

    private static void assertFailure(InferenceOutcome outcome, ErrorCode code) {
        assertThat(outcome.getOutcome()).isInstanceOf(InferenceFailure.class);
        assertThat(((InferenceFailure) outcome.getOutcome()).getCode())
                .as("%s", outcome)
                .isEqualTo(code);
    }

    private RequestRecord text(String id, String text) {
        return RequestRecord.of(
                codec.encode(new InferenceRequest(id, Map.of(), List.of(), text, null)));
    }
}
