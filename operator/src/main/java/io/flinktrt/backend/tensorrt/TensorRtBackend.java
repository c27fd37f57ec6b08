package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.Availability;
import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.SharedRegistry;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;
import io.flinktrt.backend.tensorrt.runtime.Engine;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.plan.PlanCompatibility;
import io.flinktrt.backend.tensorrt.plan.PlanFile;
import io.flinktrt.backend.tensorrt.runtime.TensorRtRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * TensorRT on an NVIDIA GPU. Opens plans built by build-engine ({@code .plan}/{@code .engine}, checked
 * against their metadata before TensorRT sees them) and ONNX models (built once with the defaults
 * and cached, see {@link OnnxPlanCache}). One engine per plan and GPU per JVM, shared by the slots.
 */
public final class TensorRtBackend implements InferenceBackend {

    public static final String NAME = "tensorrt";

    /** {@code true} lets version-compatible plans run the TensorRT code they carry. */
    public static final String ALLOW_HOST_CODE = "tensorrt.allow-host-code";

    /** Execution contexts (with their streams and device buffers) per slot: batches on the GPU at once. */
    public static final String CONTEXTS = "tensorrt.contexts";

    /** {@code false} runs every batch with a plain enqueueV3 instead of a CUDA graph captured at warm-up. */
    public static final String CUDA_GRAPHS = "tensorrt.cuda-graphs";

    static final int DEFAULT_CONTEXTS = 2;

    private static final SharedRegistry<Engine.Key, Engine> ENGINES = new SharedRegistry<>();

    /** Probed once per JVM: the answer does not change while it runs. */
    private static volatile Availability availability;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Availability availability() {
        Availability known = availability;
        if (known == null) {
            try {
                known = Availability.yes(GpuProbe.probe(0, false).summary());
            } catch (BackendException e) {
                known = Availability.no(e.getMessage());
            } catch (Throwable e) { // whatever a broken native setup throws, availability() must not
                known = Availability.no("TensorRT could not be probed: " + e);
            }
            availability = known;
        }
        return known;
    }

    @Override
    public boolean accepts(Path model) {
        String name = model.getFileName().toString();
        return name.endsWith(".plan") || name.endsWith(".engine") || name.endsWith(".onnx");
    }

    @Override
    public ModelRunner open(ModelConfig config) throws BackendException {
        Path model = config.modelPath().toAbsolutePath().normalize();
        if (!Files.isRegularFile(model)) {
            throw new BackendException("Model file " + model + " does not exist or is not a file.");
        }
        GpuInfo gpu = GpuProbe.probe(config.deviceIndex(), false);
        Path planPath = model.getFileName().toString().endsWith(".onnx") ? OnnxPlanCache.planFor(model, config, gpu) : model;
        PlanFile plan = PlanFile.read(planPath);
        boolean allowHostCode = Boolean.parseBoolean(config.option(ALLOW_HOST_CODE, "false"));
        PlanCompatibility.check(plan.metadata(), gpu, allowHostCode, planPath.toString());
        Engine.Key key;
        try {
            key = new Engine.Key(planPath.toRealPath(), plan.sha256(), config.deviceIndex());
        } catch (IOException e) {
            throw new BackendException("Plan " + planPath + " is unreadable: " + e, e);
        }
        SharedRegistry<Engine.Key, Engine>.Lease lease = ENGINES.acquire(key, k -> Engine.load(k, plan, allowHostCode));
        try {
            return new TensorRtRunner(lease, config, ModelFiles.modelName(model), plan.sha256());
        } catch (BackendException | RuntimeException e) {
            try {
                lease.close();
            } catch (Exception ignored) {
                // the open failure is the error to report
            }
            throw e;
        }
    }

    /** Engines alive in this JVM; for tests and diagnostics. */
    static int liveEngines() {
        return ENGINES.size();
    }

    @Override
    public OptionalLong deviceMemoryUsed(int device) {
        if (!availability().available()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(GpuProbe.usedMemory(device));
        } catch (BackendException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    public static int contexts(ModelConfig config) throws BackendException {
        String value = config.option(CONTEXTS, Integer.toString(DEFAULT_CONTEXTS));
        try {
            int contexts = Integer.parseInt(value.trim());
            if (contexts >= 1) {
                return contexts;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BackendException(CONTEXTS + " must be a whole number of at least 1, was '" + value + "'.");
    }

    public static boolean cudaGraphs(ModelConfig config) throws BackendException {
        String value = config.option(CUDA_GRAPHS, "true").trim();
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw new BackendException(CUDA_GRAPHS + " must be true or false, was '" + value + "'.");
        }
        return Boolean.parseBoolean(value);
    }
}
