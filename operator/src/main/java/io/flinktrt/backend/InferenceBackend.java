package io.flinktrt.backend;

/**
 * A way to run models (DJL's {@code Engine}): TensorRT on a GPU, ONNX Runtime on the CPU.
 * Implementations are found with {@link java.util.ServiceLoader}; {@link Backends} picks one.
 */
public interface InferenceBackend {

    /** Short name used in configuration and in results, e.g. {@code onnxruntime}. */
    String name();

    /** Preference when the backend is chosen automatically: higher wins. */
    int priority();

    /** Whether this backend can run on this machine now, and if not, why. Never throws. */
    Availability availability();

    /** Whether this backend can open the given model file (by its format). */
    boolean accepts(java.nio.file.Path model);

    /**
     * Opens the model for one task slot. What is shared per device (weights, engine) is shared by
     * the backend; the runner owns what is per slot (context, stream, buffers).
     */
    ModelRunner open(ModelConfig config) throws BackendException;

    /**
     * Bytes of device memory in use on {@code device} by every process (what nvidia-smi shows), for
     * benchmarks; empty where the backend has no device. Never throws.
     */
    default java.util.OptionalLong deviceMemoryUsed(int device) {
        return java.util.OptionalLong.empty();
    }
}
