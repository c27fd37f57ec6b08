package io.flinktrt.jobs.sql;

import io.flinktrt.repository.ModelRepository;
import io.flinktrt.repository.RepositoryVersions;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OnnxReference;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * ML_PREDICT on a model repository entry: 'model' names it, 'model-version' picks the version (the
 * latest by default), and the statement answers as ONNX Runtime run directly on that version's
 * file; a version the repository lacks is refused when the statement is planned.
 */
class MlPredictRepositoryITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    private static final int ROWS = 20;

    @TempDir static Path repository;

    @Test
    void theVersionAskedForAnswers() throws Exception {
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        RepositoryVersions.addMlpVersion(repository, "mlp", 2);
        Random random = new Random(3);
        List<float[]> inputs = new ArrayList<>();
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < ROWS; i++) {
            float[] x = new float[16];
            StringBuilder array = new StringBuilder();
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) random.nextGaussian();
                array.append(j == 0 ? "" : ", ").append("CAST(").append(x[j]).append(" AS FLOAT)");
            }
            inputs.add(x);
            values.append(i == 0 ? "" : ", ")
                    .append("('r")
                    .append(i)
                    .append("', ARRAY[")
                    .append(array)
                    .append("])");
        }
        TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tables.getConfig().set("parallelism.default", "1");
        tables.executeSql(
                "CREATE TEMPORARY VIEW requests AS SELECT * FROM (VALUES "
                        + values
                        + ") AS t(id, x)");
        for (String version : new String[] {"1", "latest"}) {
            tables.executeSql(
                    "CREATE TEMPORARY MODEL mlp_"
                            + (version.equals("1") ? "one" : "latest")
                            + " INPUT (x ARRAY<FLOAT>) OUTPUT (probs ARRAY<FLOAT>) WITH ('provider' = 'onnxruntime',"
                            + " 'model-repository' = '"
                            + repository
                            + "', 'model' = 'mlp', 'model-version' = '"
                            + version
                            + "')");
        }

        ModelRepository models = new ModelRepository(repository);
        for (var pinned : Map.of("mlp_one", 0, "mlp_latest", 1).entrySet()) {
            Path file = models.versions("mlp").get(pinned.getValue()).files("onnxruntime").get(0);
            List<Row> rows = new ArrayList<>();
            try (CloseableIterator<Row> results =
                    tables.executeSql(
                                    "SELECT id, probs FROM ML_PREDICT(TABLE requests, MODEL "
                                            + pinned.getKey()
                                            + ", DESCRIPTOR(x))")
                            .collect()) {
                results.forEachRemaining(rows::add);
            }
            assertThat(rows).hasSize(ROWS);
            try (OnnxReference reference = new OnnxReference(file)) {
                for (Row row : rows) {
                    String id = (String) row.getField(0);
                    float[] expected =
                            reference
                                    .run(request(id, inputs.get(Integer.parseInt(id.substring(1)))))
                                    .get("probs");
                    Float[] probs = (Float[]) row.getField(1);
                    float[] actual = new float[probs.length];
                    for (int i = 0; i < probs.length; i++) {
                        actual[i] = probs[i];
                    }
                    assertThat(actual)
                            .as(pinned.getKey() + " " + id)
                            .containsExactly(expected, within(1e-5f));
                }
            }
        }

        tables.executeSql(
                "CREATE TEMPORARY MODEL mlp_seven INPUT (x ARRAY<FLOAT>) OUTPUT (probs ARRAY<FLOAT>) WITH"
                        + " ('provider' = 'onnxruntime', 'model-repository' = '"
                        + repository
                        + "', 'model' = 'mlp', 'model-version' = '7')");
        assertThatThrownBy(
                        () ->
                                tables.explainSql(
                                        "SELECT * FROM ML_PREDICT(TABLE requests, MODEL mlp_seven, DESCRIPTOR(x))"))
                .hasStackTraceContaining("version 7 (pinned) is not in")
                .hasStackTraceContaining("[1, 2]");
    }

    private static InferenceRequest request(String id, float[] x) {
        ByteBuffer data =
                ByteBuffer.allocate(x.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : x) {
            data.putFloat(value);
        }
        data.flip();
        return InferenceRequest.newBuilder()
                .setId(id)
                .setTensors(List.of(new Tensor("x", DataType.FLOAT32, List.of(1L, 16L), data)))
                .build();
    }
}
