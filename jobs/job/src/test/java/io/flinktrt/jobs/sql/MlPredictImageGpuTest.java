package io.flinktrt.jobs.sql;

import io.flinktrt.backend.tensorrt.GpuTestSupport;
import io.flinktrt.image.ImageReference;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;

import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ML_PREDICT on TensorRT with {@code 'image'}: the photos of {@link MlPredictImageITCase} decoded
 * on the GPU (baseline JPEGs) or the CPU (the rest), each row's scores against ONNX Runtime on the
 * CPU decoder's pixels, row by row, and each bad image a bad row with its code. GPU tag;
 * docs/gpu.md.
 */
@Tag("gpu")
@Timeout(300)
class MlPredictImageGpuTest {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    /** Of a softmax over three channel means: the decoders' per-pixel differences mostly cancel. */
    private static final float TOLERANCE = 0.01f;

    @TempDir static Path dir;

    @Test
    void photosOnTensorRtScoreAsOnnxRuntimeOnTheCpuDecoder() throws Exception {
        GpuTestSupport.requireTensorRt();
        Path onnx = TestModels.path(TestModels.IMAGE_UINT8);
        Path plan = GpuTestSupport.buildPlan(onnx, dir.resolve("image_uint8.plan"), List.of(1, 4));
        TableEnvironment tables = MlPredictImageITCase.tables();
        tables.executeSql(
                "CREATE TEMPORARY MODEL m INPUT (image BYTES) OUTPUT (labels ARRAY<STRING>, scores"
                        + " ARRAY<FLOAT>, error STRING) WITH ('provider' = 'tensorrt', 'model' = '"
                        + plan
                        + "', 'image' = 'true', 'labels' = '"
                        + MlPredictImageITCase.labels()
                        + "', 'top-k' = '3', 'max-batch' = '4')");
        Map<String, Row> out = new HashMap<>();
        try (CloseableIterator<Row> rows =
                tables.executeSql(
                                "SELECT id, labels, scores, error FROM"
                                        + " ML_PREDICT(TABLE photos, MODEL m, DESCRIPTOR(image))")
                        .collect()) {
            rows.forEachRemaining(row -> out.put((String) row.getField("id"), row));
        }

        float worst = 0;
        try (ImageReference reference = new ImageReference(onnx)) {
            for (String name : MlPredictImageITCase.GOOD) {
                Row row = out.get(name);
                assertThat(row.getField("error")).as(name).isNull();
                Map<String, Float> expected = new HashMap<>();
                ImageReference.ranked(reference.onFrame(name), MlPredictImageITCase.CHANNELS)
                        .forEach(e -> expected.put(e.getKey(), e.getValue()));
                String[] labels = (String[]) row.getField("labels");
                Float[] scores = (Float[]) row.getField("scores");
                for (int k = 0; k < labels.length; k++) {
                    float diff = Math.abs(scores[k] - expected.get(labels[k]));
                    worst = Math.max(worst, diff);
                    assertThat(diff).as("%s %s", name, labels[k]).isLessThanOrEqualTo(TOLERANCE);
                }
            }
        }
        MlPredictImageITCase.BAD.forEach(
                (name, code) ->
                        assertThat((String) out.get(name).getField("error"))
                                .as(name)
                                .startsWith(code + ": "));
        System.out.printf(
                "ML_PREDICT on tensorrt, %d photos: max |score - ONNX Runtime on the CPU decoder|"
                        + " %.3g%n",
                MlPredictImageITCase.GOOD.size(), worst);
    }
}
