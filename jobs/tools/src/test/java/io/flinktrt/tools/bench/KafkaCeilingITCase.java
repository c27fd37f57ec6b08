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

    @TempDir Path out;

    @Test
    void kafkaAloneIsMeasuredBesideTheJob() throws Exception {
        Path model = TestModels.path(TestModels.IMAGE_UINT8);
        OnnxRuntimeBackend backend = new OnnxRuntimeBackend();
        ModelSignature signature;
        try (ModelRunner runner = backend.open(new ModelConfig(model, 0, 0, 1, Map.of()))) {
            signature = runner.signature();
        }
        boolean complete =
                new Benchmark(
                                backend,
                                model,
                                0,
                                signature,
                                Map.of(),
                                3,
                                1,
                                5,
                                30_000_000L,
                                1000,
                                out)
                        .run(List.of(8), List.of(1), List.of("kafka", "job"));

        assertThat(complete).isTrue();
        List<String> csv = Files.readAllLines(out.resolve("image_uint8-bench.csv"));
        String kafka =
                csv.stream()
                        .filter(line -> line.startsWith("Kafka alone"))
                        .findFirst()
                        .orElseThrow();
        String job =
                csv.stream()
                        .filter(line -> line.startsWith("job (Kafka"))
                        .findFirst()
                        .orElseThrow();
        assertThat(Double.parseDouble(kafka.split(",")[3])).isPositive();
        assertThat(kafka)
                .contains(
                        "199 requests of 150,5"); // a uint8 frame, 150,528 bytes, plus the record's
        // fields
        assertThat(job).containsPattern("\\d\\.\\d{3} of Kafka alone");
    }
}
