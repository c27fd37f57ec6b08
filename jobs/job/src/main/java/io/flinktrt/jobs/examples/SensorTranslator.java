package io.flinktrt.jobs.examples;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.operator.InferenceTranslator;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.api.common.typeinfo.TypeInformation;

import java.nio.ByteBuffer;

/**
 * Runs a classifier with one float vector in and class probabilities out (the mlp_classifier test
 * model: 16 features, 10 classes) on {@link SensorReading}s. A reading with the wrong number of
 * features, or NaN/Inf among them, gets a {@link Prediction} with its error instead.
 */
public final class SensorTranslator
        implements InferenceTranslator<SensorReading, SensorReading, Prediction> {

    private static final long serialVersionUID = 1L;

    private transient int features;
    private transient int classes;

    @Override
    public void open(ModelSignature signature, String backendName) {
        if (signature.inputs().size() != 1
                || signature.outputs().size() != 1
                || signature.inputs().get(0).dtype() != DataType.FLOAT32
                || signature.outputs().get(0).dtype() != DataType.FLOAT32) {
            throw new IllegalArgumentException(
                    "SensorTranslator takes a model with one FLOAT32 input and one FLOAT32"
                            + " output; "
                            + signature.modelName()
                            + " has inputs "
                            + signature.inputs()
                            + " and outputs "
                            + signature.outputs());
        }
        features = (int) signature.inputs().get(0).sampleElements();
        classes = (int) signature.outputs().get(0).sampleElements();
    }

    @Override
    public SensorReading prepare(SensorReading reading, long arrivalNanos)
            throws RequestRejectedException {
        if (reading.features == null || reading.features.length != features) {
            throw new RequestRejectedException(
                    ErrorCode.SHAPE_NOT_ACCEPTED,
                    "Reading "
                            + reading.id
                            + " has "
                            + (reading.features == null ? 0 : reading.features.length)
                            + " features; the model takes "
                            + features
                            + ".");
        }
        for (float value : reading.features) {
            if (!Float.isFinite(value)) {
                throw new RequestRejectedException(
                        ErrorCode.NON_FINITE_INPUT, "Reading " + reading.id + " holds NaN or Inf.");
            }
        }
        return reading;
    }

    @Override
    public void putRow(SensorReading reading, BatchBuffers buffers, int row) {
        ByteBuffer input = buffers.input(0);
        int offset = row * features * Float.BYTES;
        for (float value : reading.features) {
            input.putFloat(offset, value);
            offset += Float.BYTES;
        }
    }

    @Override
    public Prediction readRow(
            SensorReading reading, BatchBuffers buffers, int row, BatchInfo batch) {
        ByteBuffer output = buffers.output(0);
        float[] probabilities = new float[classes];
        for (int k = 0; k < classes; k++) {
            probabilities[k] = output.getFloat((row * classes + k) * Float.BYTES);
        }
        return Prediction.of(reading.id, probabilities);
    }

    @Override
    public Prediction rejected(SensorReading reading, RequestRejectedException rejection) {
        return Prediction.failure(reading.id, rejection.code() + ": " + rejection.getMessage());
    }

    @Override
    public Prediction failed(
            SensorReading reading, SensorReading prepared, ErrorCode code, String message) {
        return Prediction.failure(reading.id, code + ": " + message);
    }

    @Override
    public TypeInformation<Prediction> getProducedType() {
        return TypeInformation.of(Prediction.class);
    }
}
