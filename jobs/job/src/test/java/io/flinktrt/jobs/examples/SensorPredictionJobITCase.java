package io.flinktrt.jobs.examples;

import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The POJO example end to end on a MiniCluster with ONNX Runtime: each reading gets its prediction
 * or its error.
 */
@Timeout(120)
class SensorPredictionJobITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(2);

    private static final Path MODEL = TestModels.path(TestModels.MLP);

    @Test
    void eachReadingGetsThePredictionOfOnnxRuntimeRunDirectlyOrItsError() throws Exception {
        Random random = new Random(7);
        List<SensorReading> readings = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            float[] features = new float[16];
            for (int k = 0; k < features.length; k++) {
                features[k] = (float) random.nextGaussian();
            }
            readings.add(new SensorReading("r" + i, features));
        }
        readings.add(new SensorReading("too-short", new float[3]));
        float[] withNan = new float[16];
        withNan[4] = Float.NaN;
        readings.add(new SensorReading("nan", withNan));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        Map<String, Prediction> predictions = new HashMap<>();
        try (var results =
                SensorPredictionJob.predict(
                                env.fromData(readings, TypeInformation.of(SensorReading.class)),
                                MODEL.toString(),
                                16)
                        .executeAndCollect()) {
            results.forEachRemaining(
                    p ->
                            assertThat(predictions.put(p.id, p))
                                    .as("second output for %s", p.id)
                                    .isNull());
        }

        assertThat(predictions).hasSize(readings.size());
        assertThat(predictions.get("too-short").error)
                .startsWith("SHAPE_NOT_ACCEPTED")
                .contains("3 features");
        assertThat(predictions.get("nan").error).startsWith("NON_FINITE_INPUT");
        try (OnnxReference reference = new OnnxReference(MODEL)) {
            for (SensorReading reading : readings.subList(0, 200)) {
                Prediction prediction = predictions.get(reading.id);
                assertThat(prediction.error).as(reading.id).isNull();
                float[] expected = reference.run(request(reading)).get("probs");
                assertThat(prediction.probabilities)
                        .as(reading.id)
                        .containsExactly(expected, within(1e-5f));
                assertThat(expected[prediction.label]).isEqualTo(max(expected));
            }
        }
    }

    private static InferenceRequest request(SensorReading reading) {
        ByteBuffer data =
                ByteBuffer.allocate(reading.features.length * Float.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN);
        for (float value : reading.features) {
            data.putFloat(value);
        }
        return new InferenceRequest(
                reading.id,
                Map.of(),
                List.of(new Tensor("x", DataType.FLOAT32, List.of(1L, 16L), data.flip())),
                null,
                null);
    }

    private static float max(float[] values) {
        float max = values[0];
        for (float value : values) {
            max = Math.max(max, value);
        }
        return max;
    }
}
