package io.flinktrt.slot;

import io.flinktrt.backend.ModelConfig;

import org.apache.flink.annotation.Internal;

import java.io.Serializable;
import java.time.Duration;

/**
 * What a slot needs to open its model and batch its records, whichever front door configured it
 * (the DataStream builder's options or ML_PREDICT's {@code WITH} options).
 */
@Internal
public interface SlotSettings extends Serializable {

    /** A backend name, or {@code auto}. */
    String backend();

    /** The model file: an ONNX file or a TensorRT plan. */
    String model();

    /** The device used when Flink assigns the slot no GPU. */
    int device();

    /** The name of Flink's external resource that assigns GPUs to slots. */
    String gpuResource();

    /** How long the oldest record of a batch may wait for more to join. */
    Duration maxDelay();

    /** The backend's configuration for a slot on {@code deviceIndex}. */
    ModelConfig modelConfig(int deviceIndex);
}
