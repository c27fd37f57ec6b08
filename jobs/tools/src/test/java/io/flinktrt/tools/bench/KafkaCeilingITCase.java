package io.flinktrt.tools.bench;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bench's Kafka ceiling next to the job, on the uint8 camera-frame model (ONNX Runtime, real
 * embedded Kafka, real local Flink): both rows in the CSV, the job's row compared with Kafka alone.
 */
class KafkaCeilingITCase {

    private static final Path MODEL = TestModels.path(TestModels.IMAGE_UINT8);

    @TempDir Path out;

    @Test
    void kafkaAloneIsMeasuredBesideTheJob() throws Exception {
        boolean complete =
                benchmark(30_000_000L, BenchRequests::random)
                        .run(List.of(8), List.of(1), List.of("kafka", "job"));

        assertThat(complete).isTrue();
        String kafka = row("Kafka alone");
        String job = row("job (Kafka");
        assertThat(Double.parseDouble(kafka.split(",")[3])).isPositive();
        assertThat(kafka)
                .contains(
                        "199 requests of 150,5"); // a uint8 frame, 150,528 bytes, plus the record's
        // fields
        assertThat(job).containsPattern("\\d\\.\\d{3} of Kafka alone");
    }

    @Test
    void jpegRequestsGoThroughKafkaAndTheJobOnEachSlotCount() throws Exception {
        Path photos = MODEL.getParent().resolve("images").resolve("photo-224-*.jpg");
        boolean complete =
                benchmark(3_000_000L, signature -> BenchRequests.images(photos.toString()))
                        .run(List.of(8), List.of(1, 2), List.of("kafka", "job", "job-slots"));

        assertThat(complete).as("every JPEG request answered in every job run").isTrue();
        // 32 photos of 14,079 bytes on average, plus the record's fields: the JPEGs travel, not
        // frames
        assertThat(row("Kafka alone")).containsPattern("requests of 14,\\d{3} bytes");
        assertThat(rows("job, slots")).hasSize(2);
    }

    /** What a bench run's requests are, given the model's signature. */
    @FunctionalInterface
    private interface Requests {
        BenchRequests of(ModelSignature signature) throws Exception;
    }

    private Benchmark benchmark(long jobMaxBytes, Requests requests) throws Exception {
        OnnxRuntimeBackend backend = new OnnxRuntimeBackend();
        ModelSignature signature;
        try (ModelRunner runner = backend.open(new ModelConfig(MODEL, 0, 0, 1, Map.of()))) {
            signature = runner.signature();
        }
        return new Benchmark(
                backend,
                MODEL,
                0,
                signature,
                Map.of(),
                3,
                1,
                5,
                jobMaxBytes,
                1000,
                out,
                requests.of(signature));
    }

    private List<String> rows(String stage) throws Exception {
        return Files.readAllLines(out.resolve("image_uint8-bench.csv")).stream()
                .filter(line -> line.startsWith(stage))
                .toList();
    }

    private String row(String stage) throws Exception {
        return rows(stage).stream().findFirst().orElseThrow();
    }
}
