package io.flinktrt.text;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.backend.tensorrt.GpuTestSupport;
import io.flinktrt.backend.tensorrt.TensorRtBackend;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.build.EngineBuilder;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * TensorRT on a text model with a dynamic sequence length (a plan with a profile per batch bucket
 * and length, build-engine --sequence-lengths): texts of mixed lengths batched by length through
 * the scheduler, every row's hidden states equal to ONNX Runtime's for the same text, and each
 * batch run at its bucket's length (a CUDA graph per batch and length). Needs a GPU (tag gpu;
 * docs/gpu.md).
 */
@Tag("gpu")
@Timeout(300)
class TextLengthBucketsGpuTest {

    @TempDir static Path dir;

    private static Path tokenizerFile;
    private static Path onnx;
    private static Path plan;

    private static final List<String> WORDS =
            List.of(
                    "the", "stream", "flink", "model", "gpu", "batch", "token", "kafka", "job",
                    "fast");

    @BeforeAll
    static void build() throws Exception {
        GpuTestSupport.requireTensorRt();
        tokenizerFile = TextModels.writeTokenizer(dir);
        onnx = TextModels.writeDynamicEncoder(dir);
        plan = dir.resolve("encoder-dynamic.plan");
        EngineBuilder.build(
                BuildOptions.builder(onnx, plan)
                        .setBatchBuckets(List.of(1, 4, 16))
                        .setSequenceLengths(List.of(4, 8, 16))
                        .setWorkspaceMiB(1024)
                        .build(),
                System.out::println);
    }

    @Test
    void mixedLengthTextsOnTensorRtGiveOnnxRuntimesHiddenStatesRowByRow() throws Exception {
        Random random = new Random(7);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int words = 1 + random.nextInt(random.nextInt(4) == 0 ? 14 : 4);
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < words; w++) {
                text.append(w == 0 ? "" : " ").append(WORDS.get(random.nextInt(WORDS.size())));
            }
            texts.add(text.toString());
        }
        List<LengthBucketsTest.Seen> trt = run(new TensorRtBackend().open(config(plan)), texts);
        List<LengthBucketsTest.Seen> ort = run(new OnnxRuntimeBackend().open(config(onnx)), texts);
        int[] perLength = new int[TextModels.SEQUENCE + 1];
        for (int i = 0; i < texts.size(); i++) {
            LengthBucketsTest.Seen t = trt.get(i);
            LengthBucketsTest.Seen o = ort.get(i);
            assertThat(t.length()).as(texts.get(i)).isEqualTo(o.length());
            perLength[t.length()]++;
            for (int v = 0; v < t.length() * TextModels.HIDDEN; v++) {
                assertThat(t.hidden()[v])
                        .as(texts.get(i) + " value " + v)
                        .isCloseTo(o.hidden()[v], within(1e-4f));
            }
        }
        System.out.printf(
                "rows per length: 4: %d, 8: %d, 16: %d%n",
                perLength[4], perLength[8], perLength[16]);
        assertThat(perLength[4]).isPositive();
        assertThat(perLength[8]).isPositive();
        assertThat(perLength[16]).isPositive();
    }

    private static ModelConfig config(Path model) {
        return new ModelConfig(model, 0, 16, 2, Map.of(), List.of(4, 8, 16));
    }

    private static List<LengthBucketsTest.Seen> run(ModelRunner opened, List<String> texts)
            throws Exception {
        try (ModelRunner runner = opened;
                BatchScheduler<PendingText, LengthBucketsTest.Seen> scheduler =
                        new BatchScheduler<>(
                                runner,
                                LengthBucketsTest.codec(
                                        TextTokenizer.open(
                                                tokenizerFile.toString(),
                                                runner.signature(),
                                                0,
                                                "")),
                                new BatchingConfig("gpu-test", 16, Duration.ofMillis(5)),
                                BatchListener.NONE)) {
            List<CompletableFuture<LengthBucketsTest.Seen>> futures = new ArrayList<>();
            for (String text : texts) {
                futures.add(scheduler.submit(new PendingText(text)));
            }
            List<LengthBucketsTest.Seen> rows = new ArrayList<>();
            for (CompletableFuture<LengthBucketsTest.Seen> future : futures) {
                rows.add(future.get(60, TimeUnit.SECONDS));
            }
            return rows;
        }
    }
}
