package io.flinktrt.image;

import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.LabelScore;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OperatorRuns;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

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

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * JPEG and PNG requests through the Avro path on ONNX Runtime in the MiniCluster: every answer
 * equals the model run directly (an OrtSession here) on the CPU decoder's tensors, one row at a
 * time, and each bad image fails with its own code while the good images of its batches are
 * answered; the same through an {@link ImageTranslator} on the user's own records.
 */
class ImageInferenceITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @TempDir static Path dir;

    static final List<String> GOOD =
            List.of(
                    "photo-224-00.jpg",
                    "photo-224-05.jpg",
                    "photo-224-13.jpg",
                    "photo-224-31.jpg",
                    "photo-1080p-0.jpg",
                    "photo-1080p-3.jpg",
                    "progressive.jpg",
                    "grayscale.jpg",
                    "grayscale.png",
                    "exif-rotated.jpg",
                    "upright.png");

    static final Map<String, ErrorCode> BAD = TestImages.BAD;

    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

    @Test
    void uint8FramesFromJpegsGiveTheModelsOutputsOnTheDecodersTensors() throws Exception {
        Path model = TestModels.path(TestModels.IMAGE_UINT8);
        Map<String, InferenceOutcome> outcomes =
                OperatorRuns.outcomesById(requests(), onOnnxRuntime(model).build());

        try (ImageReference reference = new ImageReference(model)) {
            for (String name : GOOD) {
                assertOutput(outcomes.get(name), reference.onFrame(name));
            }
        }
        assertBadImagesFailed(outcomes);
    }

    @Test
    void normalisedFloatInputsFromJpegsGiveTheModelsOutputsAndTopLabels() throws Exception {
        Path model = TestModels.path(TestModels.IMAGE_MEAN);
        Path labels = dir.resolve("channels.txt");
        Files.write(labels, List.of("red", "green", "blue"));
        List<Float> mean = List.of(0.5f, 0.4f, 0.3f);
        List<Float> std = List.of(0.25f, 0.2f, 0.3f);
        Map<String, InferenceOutcome> raw =
                OperatorRuns.outcomesById(
                        requests(), onOnnxRuntime(model).setImageInput("input", mean, std).build());
        Map<String, InferenceOutcome> ranked =
                OperatorRuns.outcomesById(
                        requests(),
                        onOnnxRuntime(model)
                                .setImageInput("input", mean, std)
                                .setTopK(2, labels.toString())
                                .build());

        try (ImageReference reference = new ImageReference(model)) {
            for (String name : GOOD) {
                float[] expected = reference.onPlanes(name, mean, std);
                assertOutput(raw.get(name), expected);
                assertTopTwo(ranked.get(name), expected, List.of("red", "green", "blue"));
            }
        }
        assertBadImagesFailed(raw);
        assertBadImagesFailed(ranked);
    }

    @Test
    void anImageTranslatorOnTheUsersOwnRecordsGivesTheTopLabels() throws Exception {
        Path model = TestModels.path(TestModels.IMAGE_UINT8);
        Path labels = dir.resolve("rgb.txt");
        Files.write(labels, List.of("red", "green", "blue"));
        List<Tuple2<String, byte[]>> photos = new ArrayList<>();
        for (String name : GOOD) {
            photos.add(Tuple2.of(name, TestImages.bytes(name)));
        }
        for (String name : BAD.keySet()) {
            photos.add(photos.size() / 2, Tuple2.of(name, TestImages.bytes(name)));
        }
        photos.add(Tuple2.of("empty", new byte[0]));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        ImageTranslator<Tuple2<String, byte[]>> translator =
                new ImageTranslator<>(
                        photo -> photo.f1,
                        photo -> photo.f0,
                        ImageSettings.DEFAULT,
                        2,
                        labels.toString());
        Map<String, ImageAnswer> answers = new HashMap<>();
        onOnnxRuntime(model)
                .build(translator)
                .applyTo(
                        env.fromData(
                                photos,
                                Types.TUPLE(Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE))))
                .executeAndCollect()
                .forEachRemaining(answer -> answers.put(answer.id, answer));

        assertThat(answers).hasSize(photos.size());
        try (ImageReference reference = new ImageReference(model)) {
            for (String name : GOOD) {
                float[] logits = reference.onFrame(name);
                ImageAnswer answer = answers.get(name);
                assertThat(answer.failed()).as("%s", answer).isFalse();
                assertTopTwo(
                        name,
                        List.of(answer.labels),
                        answer.scores,
                        logits,
                        List.of("red", "green", "blue"));
            }
        }
        BAD.forEach(
                (name, code) ->
                        assertThat(answers.get(name).error).as(name).isEqualTo(code.name()));
        assertThat(answers.get("empty").error).isEqualTo(ErrorCode.INVALID_IMAGE.name());
    }

    /** Good and bad images interleaved, so that each batch of 4 holds both. */
    private List<RequestRecord> requests() throws Exception {
        List<String> names = new ArrayList<>(GOOD);
        int at = 1;
        for (String bad : BAD.keySet()) {
            names.add(Math.min(at, names.size()), bad);
            at += 3;
        }
        List<RequestRecord> records = new ArrayList<>();
        for (String name : names) {
            records.add(
                    RequestRecord.of(
                            codec.encode(
                                    new InferenceRequest(
                                            name,
                                            Map.of(),
                                            List.of(),
                                            null,
                                            TestImages.buffer(name)))));
        }
        return records;
    }

    private static void assertOutput(InferenceOutcome outcome, float[] expected) {
        assertThat(outcome.getOutcome()).as("%s", outcome).isInstanceOf(InferenceResult.class);
        InferenceResult result = (InferenceResult) outcome.getOutcome();
        ByteBuffer data = result.getOutputs().get(0).getData().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(data.remaining()).isEqualTo(4 * expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(data.getFloat(data.position() + 4 * i))
                    .as("%s output %d", result.getId(), i)
                    .isCloseTo(expected[i], within(1e-5f));
        }
    }

    private static void assertTopTwo(
            InferenceOutcome outcome, float[] logits, List<String> labels) {
        InferenceResult result = (InferenceResult) outcome.getOutcome();
        List<LabelScore> top = result.getLabels();
        float[] scores = new float[top.size()];
        for (int k = 0; k < scores.length; k++) {
            scores[k] = top.get(k).getScore();
        }
        assertTopTwo(
                result.getId(),
                top.stream().map(LabelScore::getLabel).toList(),
                scores,
                logits,
                labels);
    }

    private static void assertTopTwo(
            String id, List<String> top, float[] scores, float[] logits, List<String> labels) {
        List<Map.Entry<String, Float>> expected = ImageReference.ranked(logits, labels);
        assertThat(top).as(id).hasSize(2);
        for (int k = 0; k < 2; k++) {
            assertThat(top.get(k)).as(id).isEqualTo(expected.get(k).getKey());
            assertThat(scores[k]).as(id).isCloseTo(expected.get(k).getValue(), within(1e-5f));
        }
    }

    private static void assertBadImagesFailed(Map<String, InferenceOutcome> outcomes) {
        assertThat(outcomes).hasSize(GOOD.size() + BAD.size());
        BAD.forEach(
                (name, code) -> {
                    InferenceOutcome outcome = outcomes.get(name);
                    assertThat(outcome.getOutcome()).as(name).isInstanceOf(InferenceFailure.class);
                    assertThat(((InferenceFailure) outcome.getOutcome()).getCode())
                            .as("%s", outcome.getOutcome())
                            .isEqualTo(code);
                });
    }

    /** The model on ONNX Runtime, batches of up to 4, each formed within 50 ms. */
    private static InferenceFunctionBuilder onOnnxRuntime(Path model) {
        return InferenceFunction.builder()
                .setModel(model.toString())
                .setBackend("onnxruntime")
                .setMaxBatchSize(4)
                .setMaxDelay(Duration.ofMillis(50));
    }
}
