package io.flinktrt.jobs;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.tensorrt.GpuTestSupport;
import io.flinktrt.backend.tensorrt.TensorRtBackend;
import io.flinktrt.backend.tensorrt.TensorRtOptions;
import io.flinktrt.image.ImageReference;
import io.flinktrt.image.ImageSettings;
import io.flinktrt.image.TestImages;
import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRecordTypeInfo;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TensorRT's answers against ONNX Runtime's, row by row, on the paths users run: the DataStream
 * operator in a local Flink (its own MiniCluster), and the Kafka job (request in, result out; with
 * JPEG requests too, decoded on the GPU). FP32 plans; TensorRT may use TF32 for FP32 layers, hence
 * a tolerance of 1e-3 absolute plus 1e-3 relative. GPU tag; see docs/gpu.md.
 *
 * <p>{@code -Dflinktrt.agreement.backend=onnxruntime} runs the same paths on the CPU (the ONNX
 * files instead of plans), to check the test's own mechanics on a machine without a GPU.
 *
 * <p>{@code -Dflinktrt.agreement.plans=DIR} takes {@code DIR/<model>.plan} instead of building
 * them: plans built with another TensorRT with --version-compatible (the 10.6 line's for the 10.15
 * runtime, whose Maven libraries cannot build for this GPU), run with tensorrt.allow-host-code.
 */
@Tag("gpu")
@Timeout(300)
class TensorRtAgreementGpuTest {

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private static final int REQUESTS = 300;
    private static final List<Integer> BUCKETS = List.of(1, 8, 32);
    private static final float ABSOLUTE = 1e-3f;
    private static final float RELATIVE = 1e-3f;

    /** Of a normalised channel mean (ImageNet's std: one 8-bit level is about 0.017). */
    private static final double IMAGE_TOLERANCE = 0.01;

    private static final String BACKEND =
            System.getProperty("flinktrt.agreement.backend", TensorRtBackend.NAME);
    private static final boolean ON_GPU = BACKEND.equals(TensorRtBackend.NAME);
    private static final String PLANS = System.getProperty("flinktrt.agreement.plans");

    @TempDir static Path dir;

    @BeforeAll
    static void tensorRt() {
        if (ON_GPU) {
            System.out.println(GpuTestSupport.requireTensorRt());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.MLP, TestModels.TWO_IN_TWO_OUT, TestModels.TOKENS})
    void theOperatorAnswersAsOnnxRuntime(String model) throws Exception {
        Map<String, InferenceRequest> sent = requests(model);
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        List<RequestRecord> records = new ArrayList<>();
        sent.values().forEach(request -> records.add(RequestRecord.of(codec.encode(request))));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        List<InferenceOutcome> outcomes = new ArrayList<>();
        operator(model)
                .build()
                .applyTo(env.fromData(records, RequestRecordTypeInfo.INSTANCE))
                .executeAndCollect()
                .forEachRemaining(outcomes::add);

        List<InferenceResult> results = new ArrayList<>();
        for (InferenceOutcome outcome : outcomes) {
            assertThat(outcome.getOutcome()).isInstanceOf(InferenceResult.class);
            results.add((InferenceResult) outcome.getOutcome());
        }
        assertAgree(model, sent, results, "operator");
    }

    @Test
    void theKafkaJobAnswersAsOnnxRuntime() throws Exception {
        String model = TestModels.MLP;
        Map<String, InferenceRequest> sent = requests(model);
        List<InferenceResult> results = new ArrayList<>();
        try (KafkaJobHarness run =
                new KafkaJobHarness(KAFKA, "agreement", 1, operator(model), job -> job)) {
            sent.values().forEach(run.producer::send);
            for (OutcomeReader.Outcome outcome :
                    run.readOutcomes(REQUESTS, Duration.ofSeconds(120)).values()) {
                assertThat(outcome.failure()).isNull();
                results.add(outcome.result());
            }
        }
        assertAgree(model, sent, results, "Kafka job");
    }

    /**
     * Photos through the Kafka job on an image model, decoded on the GPU where TensorRT can: each
     * result against ONNX Runtime on the CPU decoder's pixels. The decoders differ by about a level
     * per pixel on 4:2:0 photos (chroma upsampling), which a per-channel mean over 224 x 224 pixels
     * shrinks to far less than this tolerance; every other difference would show.
     */
    @ParameterizedTest
    @ValueSource(strings = {TestModels.IMAGE_UINT8, TestModels.IMAGE_MEAN})
    void jpegsThroughTheKafkaJobAnswerAsOnnxRuntimeOnTheCpuDecoder(String model) throws Exception {
        List<String> photos = new ArrayList<>(TestImages.PHOTOS);
        photos.addAll(
                List.of("grayscale.jpg", "exif-rotated.jpg", "progressive.jpg", "upright.png"));
        Map<String, OutcomeReader.Outcome> outcomes;
        try (KafkaJobHarness run =
                new KafkaJobHarness(KAFKA, "images-" + model, 1, operator(model), job -> job)) {
            for (String name : photos) {
                run.producer.send(
                        new InferenceRequest(
                                name, Map.of(), List.of(), null, TestImages.buffer(name)));
            }
            outcomes = run.readOutcomes(photos.size(), Duration.ofSeconds(120));
        }
        double worst = 0;
        try (ImageReference reference = new ImageReference(TestModels.path(model))) {
            for (String name : photos) {
                InferenceResult result = outcomes.get(name).result();
                assertThat(result).as(name).isNotNull();
                assertThat(result.getBackend()).isEqualTo(BACKEND);
                float[] got = OnnxReference.floats(result.getOutputs().get(0));
                float[] want =
                        model.equals(TestModels.IMAGE_UINT8)
                                ? reference.onFrame(name)
                                : reference.onPlanes(
                                        name,
                                        ImageSettings.IMAGENET_MEAN,
                                        ImageSettings.IMAGENET_STD);
                assertThat(got).as(name).hasSameSizeAs(want);
                for (int k = 0; k < want.length; k++) {
                    double diff = Math.abs(got[k] - want[k]);
                    worst = Math.max(worst, diff);
                    assertThat(diff).as("%s[%d]", name, k).isLessThanOrEqualTo(IMAGE_TOLERANCE);
                }
            }
        }
        System.out.printf(
                "agreement Kafka job %s on JPEGs: %d photos, max |%s - ONNX Runtime on the CPU"
                        + " decoder| %.3g%n",
                model, photos.size(), BACKEND, worst);
    }

    private static void assertAgree(
            String model,
            Map<String, InferenceRequest> sent,
            List<InferenceResult> results,
            String path)
            throws Exception {
        assertThat(results).hasSize(sent.size());
        double worst = 0;
        try (OnnxReference reference = new OnnxReference(TestModels.path(model))) {
            for (InferenceResult result : results) {
                assertThat(result.getBackend()).isEqualTo(BACKEND);
                InferenceRequest request = sent.get(result.getId());
                Map<String, float[]> expected = reference.run(request);
                assertThat(result.getOutputs()).hasSize(expected.size());
                for (Tensor output : result.getOutputs()) {
                    float[] got = OnnxReference.floats(output);
                    float[] want = expected.get(output.getName());
                    assertThat(got)
                            .as("%s of %s", output.getName(), request.getId())
                            .hasSameSizeAs(want);
                    for (int k = 0; k < want.length; k++) {
                        double diff = Math.abs(got[k] - want[k]);
                        worst = Math.max(worst, diff);
                        assertThat(diff)
                                .as(
                                        "%s[%d] of %s: %s vs %s",
                                        output.getName(), k, request.getId(), got[k], want[k])
                                .isLessThanOrEqualTo(ABSOLUTE + RELATIVE * Math.abs(want[k]));
                    }
                }
            }
        }
        System.out.printf(
                "agreement %s %s: %d rows, max |%s - ONNX Runtime| %.3g%n",
                path, model, results.size(), BACKEND, worst);
    }

    private static Map<String, InferenceRequest> requests(String model) throws Exception {
        RandomRequests random =
                new RandomRequests(
                        Backends.describe(Backends.AUTO, TestModels.path(model)), 100, 11);
        Map<String, InferenceRequest> sent = new LinkedHashMap<>();
        for (int i = 0; i < REQUESTS; i++) {
            InferenceRequest request = random.next(model + "-" + i);
            sent.put(request.getId(), request);
        }
        return sent;
    }

    private static InferenceFunctionBuilder operator(String model) throws Exception {
        InferenceFunctionBuilder builder =
                InferenceFunction.builder()
                        .setModel(model(model).toString())
                        .setBackend(BACKEND)
                        .setMaxBatchSize(32)
                        .setMaxDelay(Duration.ofMillis(5));
        return PLANS == null
                ? builder
                : builder.setBackendOption(TensorRtOptions.ALLOW_HOST_CODE.key(), "true");
    }

    /** A plan built for the test on the GPU (or given); the ONNX file on the CPU. */
    private static Path model(String model) throws Exception {
        if (!ON_GPU) {
            return TestModels.path(model);
        }
        return PLANS != null
                ? Path.of(PLANS, model + ".plan")
                : GpuTestSupport.buildPlan(
                        TestModels.path(model), dir.resolve(model + ".plan"), BUCKETS);
    }
}
