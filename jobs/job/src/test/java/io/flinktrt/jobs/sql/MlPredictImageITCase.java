package io.flinktrt.jobs.sql;

import io.flinktrt.image.ImageReference;
import io.flinktrt.image.TestImages;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * CREATE MODEL ... INPUT (image BYTES) with 'image' on a MiniCluster: photos decoded in the task
 * manager, top labels equal to the model run apart from the operator ({@link ImageReference}) on
 * the CPU decoder's pixels; each bad image a bad row with its code; mismatches refused at planning.
 */
@Timeout(300)
class MlPredictImageITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @TempDir static Path dir;

    static final List<String> GOOD =
            List.of(
                    "photo-224-02.jpg",
                    "photo-224-17.jpg",
                    "photo-224-29.jpg",
                    "photo-1080p-1.jpg",
                    "progressive.jpg",
                    "grayscale.jpg",
                    "exif-rotated.jpg");

    static final Map<String, String> BAD =
            Map.of(
                    "truncated.jpg", "INVALID_IMAGE",
                    "cmyk.jpg", "UNSUPPORTED_IMAGE",
                    "gray16.png", "UNSUPPORTED_IMAGE",
                    "bomb.jpg", "IMAGE_TOO_LARGE");

    static final List<String> CHANNELS = List.of("red", "green", "blue");

    @Test
    void photosGetTheTopLabelsOfTheModelOnTheDecodersPixelsAndBadImagesTheirCodes()
            throws Exception {
        Path model = TestModels.path(TestModels.IMAGE_UINT8);
        TableEnvironment tables = tables();
        tables.executeSql(
                "CREATE TEMPORARY MODEL m INPUT (image BYTES) OUTPUT (label STRING, score FLOAT,"
                        + " labels ARRAY<STRING>, scores ARRAY<FLOAT>, error STRING) WITH ("
                        + "'provider' = 'onnxruntime', 'model' = '"
                        + model
                        + "', 'image' = 'true', 'labels' = '"
                        + labels()
                        + "', 'top-k' = '2', 'max-batch' = '4')");
        Map<String, Row> out = new HashMap<>();
        try (CloseableIterator<Row> rows =
                tables.executeSql(
                                "SELECT id, label, score, labels, scores, error FROM"
                                        + " ML_PREDICT(TABLE photos, MODEL m, DESCRIPTOR(image))")
                        .collect()) {
            rows.forEachRemaining(row -> out.put((String) row.getField("id"), row));
        }

        assertThat(out).hasSize(GOOD.size() + BAD.size() + 1);
        try (ImageReference reference = new ImageReference(model)) {
            for (String name : GOOD) {
                List<Map.Entry<String, Float>> expected =
                        ImageReference.ranked(reference.onFrame(name), CHANNELS);
                Row row = out.get(name);
                assertThat(row.getField("error")).as(name).isNull();
                assertThat(row.getField("label")).as(name).isEqualTo(expected.get(0).getKey());
                assertThat((String[]) row.getField("labels"))
                        .as(name)
                        .containsExactly(expected.get(0).getKey(), expected.get(1).getKey());
                Float[] scores = (Float[]) row.getField("scores");
                for (int k = 0; k < 2; k++) {
                    assertThat(scores[k])
                            .as(name)
                            .isCloseTo(expected.get(k).getValue(), within(1e-5f));
                }
                assertThat((Float) row.getField("score")).isEqualTo(scores[0]);
            }
        }
        BAD.forEach(
                (name, code) ->
                        assertThat((String) out.get(name).getField("error"))
                                .as(name)
                                .startsWith(code + ": "));
        assertThat(out.get("null").getField("error"))
                .isEqualTo("INVALID_IMAGE: INPUT column 'image' is null");
    }

    @Test
    void aModelThatTakesMoreThanAnImageIsRefusedAtPlanning() throws Exception {
        TableEnvironment tables = tables();
        tables.executeSql(
                "CREATE TEMPORARY MODEL two INPUT (image BYTES) OUTPUT (label STRING) WITH ("
                        + "'provider' = 'onnxruntime', 'model' = '"
                        + TestModels.path(TestModels.TWO_IN_TWO_OUT)
                        + "', 'image' = 'true', 'labels' = '"
                        + labels()
                        + "')");
        assertThatThrownBy(
                        () ->
                                tables.explainSql(
                                        "SELECT * FROM ML_PREDICT(TABLE photos, MODEL two,"
                                                + " DESCRIPTOR(image))"))
                .hasStackTraceContaining("'image' feeds a model whose only input is an image");
    }

    static Path labels() throws Exception {
        Path labels = dir.resolve("channels.txt");
        Files.write(labels, CHANNELS);
        return labels;
    }

    static TableEnvironment tables() throws Exception {
        TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tables.getConfig().set("parallelism.default", "1");
        tables.getConfig().set("restart-strategy.type", "none");
        List<Row> photos = new ArrayList<>();
        for (String name : GOOD) {
            photos.add(Row.of(name, TestImages.bytes(name)));
        }
        for (String name : BAD.keySet()) {
            photos.add(photos.size() / 2, Row.of(name, TestImages.bytes(name)));
        }
        photos.add(Row.of("null", null));
        tables.createTemporaryView(
                "photos",
                tables.fromValues(
                        DataTypes.ROW(
                                DataTypes.FIELD("id", DataTypes.STRING()),
                                DataTypes.FIELD("image", DataTypes.BYTES())),
                        photos));
        return tables;
    }
}
