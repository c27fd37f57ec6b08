package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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
     * What {@code model} takes and gives, read from its file alone (Triton's model configuration,
     * read without an instance): no runner, no engine deserialized, no GPU touched, nothing warmed,
     * so planners and clients without a GPU can call it. Empty where this backend knows the
     * signature only once it has built the model; {@link Backends#describe} then asks another
     * backend that reads the file.
     */
    Optional<ModelSignature> describe(Path model) throws BackendException;

    /**
     * As {@link #describe(Path)}, for a model whose inputs vary in length (text) run at {@code
     * sequenceLengths} (empty: the model's own, where it has them, as a TensorRT plan does).
     */
    default Optional<ModelSignature> describe(Path model, List<Integer> sequenceLengths)
            throws BackendException {
        return describe(model);
    }

    /**
     * Opens the model for one task slot. What is shared per device (weights, engine) is shared by
     * the backend; the runner owns what is per slot (context, stream, buffers).
     */
    ModelRunner open(ModelConfig config) throws BackendException;
}
