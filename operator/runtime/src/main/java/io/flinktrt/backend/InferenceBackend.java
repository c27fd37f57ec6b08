package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.file.Path;
import java.util.ServiceLoader;

/**
 * A way to run models (DJL's {@code Engine}): TensorRT on a GPU, ONNX Runtime on the CPU.
 * Implementations are found with {@link ServiceLoader}; {@link Backends} picks one.
 */
@PublicEvolving
public interface InferenceBackend {

    /** Short name used in configuration and in results, e.g. {@code onnxruntime}. */
    String name();

    /** Preference when the backend is chosen automatically: higher wins. */
    int priority();

    /** Whether this backend can run on this machine now, and if not, why. Never throws. */
    Availability availability();

    /** Whether this backend can open the given model file (by its format). */
    boolean accepts(Path model);

    /**
     * Opens the model for one task slot. What is shared per device (weights, engine) is shared by
     * the backend; the runner owns what is per slot (context, stream, buffers).
     */
    ModelRunner open(ModelConfig config) throws BackendException;
}
