package io.flinktrt.image;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.backend.tensorrt.GpuTestSupport;
import io.flinktrt.backend.tensorrt.TensorRtBackend;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.onnx.Onnx;
import io.flinktrt.onnx.TestGraphs;
import io.flinktrt.operator.RowRejectedException;
import io.flinktrt.schema.ErrorCode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * JPEGs decoded on the GPU (nvJPEG, resized with NPP, written into the engine's input) against the
 * CPU decoder, through the batch scheduler on TensorRT: the pixels themselves (a model that returns
 * its input), the float input's normalisation and planes, and a classifier's answers against ONNX
 * Runtime fed by the CPU decoder. Batches mix JPEGs the GPU decodes with images decoded on the CPU
 * (progressive, PNG) and bad images; a photo with an EXIF rotation goes to the GPU, turned there.
 * Needs a GPU with libnvjpeg and NPP (tag gpu; docs/gpu.md).
 */
@Tag("gpu")
@Timeout(600)
class GpuImageDecodeGpuTest {

    private static final int SIDE = 224;
    private static final int PIXELS = SIDE * SIDE * 3;
    private static final int LABELS = 10;

    /** Decoded on the CPU in both runs: the GPU takes baseline JPEGs only. */
    private static final Set<String> ON_CPU =
            Set.of("progressive.jpg", "grayscale.png", "upright.png");

    /**
     * Per image, GPU against CPU decoder, in 8-bit levels: nvJPEG upsamples 4:2:0 chroma otherwise
     * than ImageIO (a mean of 0.1-1.2, max 9-45 in the probe on these photos), and NPP rounds its
     * resize otherwise than ours.
     */
    private static final double MEAN_TOLERANCE = 2.0;

    private static final double MAX_TOLERANCE = 64;

    @TempDir static Path dir;

    private static Path echoFrames;
    private static Path echoPlanes;
    private static Path classifierOnnx;
    private static Path classifier;
    private static final Map<String, ByteBuffer> IMAGES = new LinkedHashMap<>();

    @BeforeAll
    static void build() throws Exception {
        GpuTestSupport.requireTensorRt();
        List<Integer> buckets = List.of(1, 4, 16);
        echoFrames =
                GpuTestSupport.buildPlan(
                        write("echo-frames.onnx", echoFramesGraph()),
                        dir.resolve("echo-frames.plan"),
                        buckets);
        echoPlanes =
                GpuTestSupport.buildPlan(
                        write("echo-planes.onnx", echoPlanesGraph()),
                        dir.resolve("echo-planes.plan"),
                        buckets);
        classifierOnnx = write("classifier.onnx", classifierGraph());
        classifier =
                GpuTestSupport.buildPlan(classifierOnnx, dir.resolve("classifier.plan"), buckets);
        List<String> names = new ArrayList<>(TestImages.PHOTOS);
        names.add("grayscale.jpg");
        names.add("exif-rotated.jpg"); // orientation 6: resized, transposed and mirrored by NPP
        names.addAll(ON_CPU);
        names.addAll(TestImages.BAD.keySet());
        Collections.shuffle(names, new Random(11)); // GPU, CPU and bad rows mixed in each batch
        for (String name : names) {
            IMAGES.put(name, TestImages.buffer(name));
        }
    }

    @Test
    void gpuDecodedPixelsMatchTheCpuDecodersWithinTheTolerance() throws Exception {
        Run gpu = run(tensorRt(echoFrames, true), PIXELS);
        Run cpu = run(tensorRt(echoFrames, false), PIXELS);
        assertThat(gpu.offered).as("the runner took JPEGs to decode on the GPU").isTrue();
        assertThat(cpu.offered).isFalse();
        assertBadImagesFailed(gpu);
        assertBadImagesFailed(cpu);
        int differing = 0;
        for (String name : good()) {
            float[] g = gpu.values.get(name);
            float[] c = cpu.values.get(name);
            if (ON_CPU.contains(name)) {
                assertThat(g).as(name + ", decoded on the CPU in both runs").isEqualTo(c);
                continue;
            }
            double sum = 0;
            double max = 0;
            for (int i = 0; i < PIXELS; i++) {
                double diff = Math.abs(g[i] - c[i]);
                sum += diff;
                max = Math.max(max, diff);
            }
            double mean = sum / PIXELS;
            System.out.printf(
                    "%s: GPU vs CPU decoder, mean |diff| %.3f, max %.0f%n", name, mean, max);
            assertThat(mean).as(name + " mean |diff|").isLessThanOrEqualTo(MEAN_TOLERANCE);
            assertThat(max).as(name + " max |diff|").isLessThanOrEqualTo(MAX_TOLERANCE);
            differing += max > 0 ? 1 : 0;
        }
        // 4:2:0 photos never decode bit-exactly on both: all equal would mean no GPU decode ran
        assertThat(differing).as("images whose GPU pixels differ from the CPU's").isPositive();
    }

    @Test
    void aFloatInputGetsTheSamePixelsNormalizedIntoPlanes() throws Exception {
        Run frames = run(tensorRt(echoFrames, true), PIXELS);
        Run planes = run(tensorRt(echoPlanes, true), PIXELS);
        assertBadImagesFailed(planes);
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        int plane = SIDE * SIDE;
        for (String name : good()) {
            float[] rgb = frames.values.get(name);
            float[] chw = planes.values.get(name);
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < plane; p += 97) {
                    float expected = (rgb[3 * p + c] / 255f - mean[c]) / std[c];
                    assertThat(chw[c * plane + p])
                            .as(name + " channel " + c + " pixel " + p)
                            .isCloseTo(expected, within(1e-4f));
                }
            }
        }
    }

    @Test
    void aClassifierOnGpuDecodedJpegsAgreesWithOnnxRuntimeOnTheCpuDecoder() throws Exception {
        Run trt = run(tensorRt(classifier, true), LABELS);
        Run ort =
                run(
                        new OnnxRuntimeBackend()
                                .open(new ModelConfig(classifierOnnx, 0, 16, 2, Map.of())),
                        LABELS);
        assertThat(trt.offered).isTrue();
        int agree = 0;
        double maxRelative = 0;
        for (String name : good()) {
            float[] t = trt.values.get(name);
            float[] o = ort.values.get(name);
            agree += top(t) == top(o) ? 1 : 0;
            double scale = 0;
            for (float v : o) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < LABELS; i++) {
                maxRelative = Math.max(maxRelative, Math.abs(t[i] - o[i]) / scale);
            }
        }
        System.out.printf(
                "top-1 agreement %d of %d; max |diff| / max |logit| %.4f%n",
                agree, good().size(), maxRelative);
        assertThat(agree).isGreaterThanOrEqualTo(good().size() * 9 / 10);
        assertThat(maxRelative).isLessThan(0.05);
    }

    private static List<String> good() {
        return IMAGES.keySet().stream().filter(n -> !TestImages.BAD.containsKey(n)).toList();
    }

    private static void assertBadImagesFailed(Run run) {
        TestImages.BAD.forEach(
                (name, code) -> assertThat(run.failures.get(name)).as(name).isEqualTo(code));
    }

    private static int top(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            best = logits[i] > logits[best] ? i : best;
        }
        return best;
    }

    private static ModelRunner tensorRt(Path plan, boolean gpuDecode) throws Exception {
        return new TensorRtBackend()
                .open(
                        new ModelConfig(
                                plan,
                                0,
                                16,
                                2,
                                Map.of("tensorrt.image-decode", gpuDecode ? "hardware" : "cpu")));
    }

    /** Each image's outputs, or the code it failed with; whether JPEGs went to the GPU. */
    private record Run(
            Map<String, float[]> values, Map<String, ErrorCode> failures, boolean offered) {}

    private static Run run(ModelRunner opened, int outputFloats) throws Exception {
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, ErrorCode> failures = new LinkedHashMap<>();
        boolean offered = offersDeviceImages(opened);
        try (ModelRunner runner = opened;
                BatchScheduler<PendingImage, float[]> scheduler =
                        new BatchScheduler<>(
                                runner,
                                ImageDecoder.open(ImageSettings.DEFAULT, runner.signature())
                                        .rows((buffers, row) -> output(buffers, row, outputFloats)),
                                new BatchingConfig("gpu-image-test", 16, Duration.ofMillis(5)),
                                BatchListener.NONE)) {
            Map<String, CompletableFuture<float[]>> futures = new LinkedHashMap<>();
            IMAGES.forEach(
                    (name, bytes) ->
                            futures.put(
                                    name, scheduler.submit(new PendingImage(bytes.duplicate()))));
            for (Map.Entry<String, CompletableFuture<float[]>> e : futures.entrySet()) {
                try {
                    values.put(e.getKey(), e.getValue().get(60, TimeUnit.SECONDS));
                } catch (ExecutionException failed) {
                    failures.put(e.getKey(), code(failed));
                }
            }
        }
        return new Run(values, failures, offered);
    }

    private static ErrorCode code(Throwable failed) {
        for (Throwable t = failed; t != null; t = t.getCause()) {
            if (t instanceof RowRejectedException rejected) {
                return rejected.rejection().code();
            }
        }
        throw new AssertionError("not a rejected image", failed);
    }

    /** Whether the runner's buffers take JPEGs to decode on the GPU. */
    private static boolean offersDeviceImages(ModelRunner runner) throws InterruptedException {
        BatchBuffers buffers = runner.acquire();
        try {
            return buffers.deviceImages(0, new float[3], new float[] {1, 1, 1}).isPresent();
        } finally {
            buffers.release();
        }
    }

    private static float[] output(BatchBuffers buffers, int row, int floats) {
        ByteBuffer output = buffers.output(0);
        float[] values = new float[floats];
        for (int i = 0; i < floats; i++) {
            values[i] = output.getFloat(4 * (row * floats + i));
        }
        return values;
    }

    /** frames uint8 [N, 224, 224, 3] → pixels float32 [N, 224, 224, 3], the same values. */
    private static TestGraphs echoFramesGraph() {
        return new TestGraphs()
                .input("frames", Onnx.UINT8, "N", SIDE, SIDE, 3)
                .output("pixels", Onnx.FLOAT, "N", SIDE, SIDE, 3)
                .cast("cast", "frames", "pixels", Onnx.FLOAT);
    }

    /** input float32 [N, 3, 224, 224] → values float32 [N, 3, 224, 224], the same values. */
    private static TestGraphs echoPlanesGraph() {
        return new TestGraphs()
                .input("input", Onnx.FLOAT, "N", 3, SIDE, SIDE)
                .output("values", Onnx.FLOAT, "N", 3, SIDE, SIDE)
                .floats("zero", 0f)
                .node("add", "Add", List.of("input", "zero"), List.of("values"));
    }

    /**
     * frames uint8 [N, 224, 224, 3] → logits float32 [N, 10]: the mean colour of each 28 x 28 block
     * (8 x 8 blocks x 3 channels) times random weights.
     */
    private static TestGraphs classifierGraph() {
        Random random = new Random(5);
        float[] weights = new float[8 * 8 * 3 * LABELS];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) random.nextGaussian();
        }
        return new TestGraphs()
                .input("frames", Onnx.UINT8, "N", SIDE, SIDE, 3)
                .output("logits", Onnx.FLOAT, "N", LABELS)
                .int64s("blocks", -1, 8, 28, 8, 28, 3)
                .int64s("within", 2, 4)
                .int64s("flat", -1, 8 * 8 * 3)
                .floats("area", 1f / (28 * 28))
                .floats("weights", weights, 8 * 8 * 3, LABELS)
                .cast("cast", "frames", "pixels", Onnx.FLOAT)
                .node("split", "Reshape", List.of("pixels", "blocks"), List.of("blocked"))
                .node(
                        "sum",
                        "ReduceSum",
                        List.of("blocked", "within"),
                        List.of("sums"),
                        Onnx.intAttribute("keepdims", 0))
                .node("mean", "Mul", List.of("sums", "area"), List.of("means"))
                .node("flatten", "Reshape", List.of("means", "flat"), List.of("features"))
                .node("classify", "MatMul", List.of("features", "weights"), List.of("logits"));
    }

    private static Path write(String name, TestGraphs graph) throws Exception {
        return Files.write(dir.resolve(name), graph.model());
    }
}
