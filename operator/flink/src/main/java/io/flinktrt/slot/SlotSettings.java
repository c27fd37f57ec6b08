package io.flinktrt.slot;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.repository.ServingPolicy;

import org.apache.flink.annotation.Internal;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What a slot needs to open its model and batch its records, whichever front door configured it
 * (the DataStream builder's options or ML_PREDICT's {@code WITH} options).
 */
@Internal
public interface SlotSettings extends Serializable {

    /** A backend name, or {@code auto}. */
    String backend();

    /**
     * The model file (an ONNX file or a TensorRT plan), or with a {@link #modelRepository} the
     * model's name there.
     */
    String model();

    /** The model repository's directory; null when {@link #model} is a file. */
    String modelRepository();

    /** Which of the repository model's versions serve (unless its serving.properties says). */
    ServingPolicy servingPolicy();

    /**
     * How often the repository is looked at for a new version, which then replaces the running one
     * at a checkpoint; zero: never (the version chosen at open serves until the job restarts).
     */
    Duration repositoryPollInterval();

    /** The device used when Flink assigns the slot no GPU. */
    int device();

    /** The name of Flink's external resource that assigns GPUs to slots. */
    String gpuResource();

    /** How long the oldest record of a batch may wait for more to join. */
    Duration maxDelay();

    /** The backend's configuration for {@code modelFile} on {@code deviceIndex}. */
    ModelConfig modelConfig(Path modelFile, int deviceIndex);
}
