package io.flinktrt.backend.onnxruntime;

import io.flinktrt.backend.Availability;
import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.SharedRegistry;

import org.apache.flink.annotation.Internal;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * ONNX Runtime on the CPU: the reference backend. It runs the same ONNX file a user gives TensorRT,
 * where no GPU is, and is the accuracy reference for TensorRT.
 */
@Internal
public final class OnnxRuntimeBackend implements InferenceBackend {

    public static final String NAME = "onnxruntime";

    /**
     * One session per model file per JVM, shared by the slots (ONNX Runtime sessions are
     * thread-safe).
     */
    private static final SharedRegistry<Path, OnnxModel> SESSIONS = new SharedRegistry<>();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability availability() {
        try {
            return Availability.yes(
                    "ONNX Runtime " + OrtTempDirectory.environment().getVersion() + " on the CPU");
        } catch (Throwable e) { // a missing native library shows up as an Error
            return Availability.no("ONNX Runtime did not load: " + e);
        }
    }

    @Override
    public boolean accepts(Path model) {
        return model.getFileName().toString().endsWith(".onnx");
    }

    /** The session's inputs and outputs, with the max batch a runner gets when none is set. */
    @Override
    public Optional<ModelSignature> describe(Path model) throws BackendException {
        return describe(model, List.of());
    }

    @Override
    public Optional<ModelSignature> describe(Path model, List<Integer> sequenceLengths)
            throws BackendException {
        OnnxModel loaded = OnnxModel.load(existing(model), 1);
        try {
            return Optional.of(OnnxRuntimeRunner.signature(loaded, 0, sequenceLengths));
        } finally {
            closeQuietly(loaded);
        }
    }

    @Override
    public ModelRunner open(ModelConfig config) throws BackendException {
        Path path = existing(config.modelPath());
        int intraOpThreads;
        try {
            intraOpThreads =
                    OnnxRuntimeOptions.sanityCheck(config.options())
                            .get(OnnxRuntimeOptions.INTRA_OP_THREADS);
        } catch (IllegalArgumentException e) {
            throw new BackendException(e.getMessage(), e);
        }
        SharedRegistry<Path, OnnxModel>.Lease lease =
                SESSIONS.acquire(path, p -> OnnxModel.load(p, intraOpThreads));
        try {
            return new OnnxRuntimeRunner(lease, config);
        } catch (BackendException | RuntimeException e) {
            closeQuietly(lease);
            throw e;
        }
    }

    private static Path existing(Path model) throws BackendException {
        Path path = model.toAbsolutePath().normalize();
        if (!Files.isRegularFile(path)) {
            throw new BackendException("Model file " + path + " does not exist or is not a file.");
        }
        return path;
    }

    static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // already failing; the first error is the one to report
        }
    }

    static OrtSession.SessionOptions sessionOptions(int intraOpThreads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        if (intraOpThreads > 0) {
            options.setIntraOpNumThreads(intraOpThreads);
        }
        return options;
    }
}
