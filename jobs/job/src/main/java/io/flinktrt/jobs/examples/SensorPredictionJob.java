package io.flinktrt.jobs.examples;

import io.flinktrt.operator.InferenceFunction;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The DataStream API on your own types: {@link SensorReading}s in, {@link Prediction}s out, batched
 * on the GPU (or ONNX Runtime) by {@link InferenceFunction} with a {@link SensorTranslator}. No
 * Kafka and no Avro: the source and sink are whatever the job uses.
 *
 * <pre>{@code
 * DataStream<Prediction> predictions = InferenceFunction.builder()
 *         .setModel("models/mlp_classifier.onnx").setMaxBatchSize(32).setMaxDelay(Duration.ofMillis(5))
 *         .build(new SensorTranslator())
 *         .applyTo(readings);
 * }</pre>
 */
public final class SensorPredictionJob {

    private SensorPredictionJob() {}

    /** Adds the inference operator to {@code readings}. */
    public static DataStream<Prediction> predict(
            DataStream<SensorReading> readings, String model, int maxBatch) {
        return InferenceFunction.builder()
                .setModel(model)
                .setMaxBatchSize(maxBatch)
                .setMaxDelay(Duration.ofMillis(5))
                .build(new SensorTranslator())
                .applyTo(readings);
    }

    /** Runs the example locally on random readings and prints the predictions. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1
                || args.length > 2
                || args[0].equals("--help")
                || args[0].equals("-h")) {
            System.out.println(
                    "Usage: SensorPredictionJob MODEL [COUNT]\n"
                            + "  MODEL  an ONNX file or TensorRT plan with one float vector in and one out,"
                            + " e.g. models/mlp_classifier.onnx\n"
                            + "  COUNT  random readings to classify (default 100)");
            return;
        }
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        Random random = new Random(1);
        List<SensorReading> readings = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float[] features = new float[16];
            for (int k = 0; k < features.length; k++) {
                features[k] = (float) random.nextGaussian();
            }
            readings.add(new SensorReading("reading-" + i, features));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        predict(env.fromData(readings, TypeInformation.of(SensorReading.class)), args[0], 32)
                .map(p -> p.error == null ? p.id + ": class " + p.label : p.id + ": " + p.error)
                .print();
        env.execute("sensor predictions");
    }
}
