package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.Availability;
import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.SharedRegistry;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;
import io.flinktrt.backend.tensorrt.gpu.NativeLibraries;
import io.flinktrt.backend.tensorrt.plan.PlanCompatibility;
import io.flinktrt.backend.tensorrt.plan.PlanFile;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;
import io.flinktrt.backend.tensorrt.plan.PlanTensors;
import io.flinktrt.backend.tensorrt.runtime.Engine;
import io.flinktrt.backend.tensorrt.runtime.ImageDecoding;
import io.flinktrt.backend.tensorrt.runtime.TensorRtRunner;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * TensorRT on an NVIDIA GPU. Opens plans built by build-engine ({@code .plan}/{@code .engine},
 * checked against their metadata before TensorRT sees them) and ONNX models (built once with the
 * defaults and cached by the engine builder's {@link OnnxPlanBuilder}). One engine per plan and GPU
 * per JVM, shared by the slots.
 */
@Internal
public final class TensorRtBackend implements InferenceBackend {

    public static final String NAME = TensorRtRunner.BACKEND_NAME;

    private static final SharedRegistry<Engine.Key, Engine> ENGINES = new SharedRegistry<>();

    private static final Optional<OnnxPlanBuilder> PLAN_BUILDER = OnnxPlanBuilder.find();

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
            } catch (
                    Throwable e) { // whatever a broken native setup throws, availability() must not
                known = Availability.no("TensorRT could not be probed: " + e);
            }
            availability = known;
        }
        return known;
    }

    @Override
    public boolean accepts(Path model) {
        return isPlan(model)
                || (model.getFileName().toString().endsWith(".onnx") && PLAN_BUILDER.isPresent());
    }

    /**
     * A plan's tensors and batch range from its build-engine metadata; empty for an ONNX model,
     * whose plan (and so its batch range) exists only once a TaskManager has built it.
     */
    @Override
    public Optional<ModelSignature> describe(Path model) throws BackendException {
        return describe(model, List.of());
    }

    /**
     * From the plan's metadata; a sequence axis at {@code sequenceLengths}, else at its profiles'
     * longest lengths, its tensors' sample shapes at the longest.
     */
    @Override
    public Optional<ModelSignature> describe(Path model, List<Integer> sequenceLengths)
            throws BackendException {
        if (!isPlan(model)) {
            return Optional.empty();
        }
        PlanMetadata metadata = PlanFile.readMetadata(model);
        PlanTensors tensors = metadata.tensors();
        ModelSignature.SequenceAxis sequence = ModelSignature.SequenceAxis.NONE;
        if (!tensors.sequenceTensors().isEmpty()) {
            List<Integer> lengths =
                    sequenceLengths.isEmpty() ? tensors.sequenceLengths() : sequenceLengths;
            sequence = new ModelSignature.SequenceAxis(lengths, tensors.sequenceTensors());
        }
        return Optional.of(
                new ModelSignature(
                        ModelFiles.modelName(model),
                        metadata.planSha256(),
                        sequence.atLongest(tensors.inputs()),
                        sequence.atLongest(tensors.outputs()),
                        tensors.maxBatch(),
                        sequence));
    }

    private static boolean isPlan(Path model) {
        String name = model.getFileName().toString();
        return name.endsWith(".plan") || name.endsWith(".engine");
    }

    private static OnnxPlanBuilder planBuilder() throws BackendException {
        return PLAN_BUILDER.orElseThrow(
                () ->
                        new BackendException(
                                "TensorRT builds a plan from an ONNX file only with"
                                        + " flink-tensorrt-engine-builder on the classpath; add it,"
                                        + " or give a plan built by build-engine."));
    }

    @Override
    public ModelRunner open(ModelConfig config) throws BackendException {
        Path model = config.modelPath().toAbsolutePath().normalize();
        if (!Files.isRegularFile(model)) {
            throw new BackendException("Model file " + model + " does not exist or is not a file.");
        }
        Configuration options;
        try {
            options = TensorRtOptions.sanityCheck(config.options());
        } catch (IllegalArgumentException e) {
            throw new BackendException(e.getMessage(), e);
        }
        GpuInfo gpu = GpuProbe.probe(config.deviceIndex(), false);
        Path planPath =
                model.getFileName().toString().endsWith(".onnx")
                        ? planBuilder().planFor(model, config, options, gpu)
                        : model;
        PlanFile plan = PlanFile.read(planPath);
        boolean allowHostCode = options.get(TensorRtOptions.ALLOW_HOST_CODE);
        PlanCompatibility.check(plan.metadata(), gpu, allowHostCode, planPath.toString());
        Engine.Key key;
        try {
            key = new Engine.Key(planPath.toRealPath(), plan.sha256(), config.deviceIndex());
        } catch (IOException e) {
            throw new BackendException("Plan " + planPath + " is unreadable: " + e, e);
        }
        SharedRegistry<Engine.Key, Engine>.Lease lease =
                ENGINES.acquire(key, k -> Engine.load(k, plan, gpu, allowHostCode));
        try {
            // a lane without a batch to run would idle
            int contexts =
                    Math.min(
                            Math.max(1, config.buffersInFlight()),
                            options.get(TensorRtOptions.CONTEXTS));
            return new TensorRtRunner(
                    lease,
                    config,
                    contexts,
                    options.get(TensorRtOptions.CUDA_GRAPHS),
                    imageDecoding(options.get(TensorRtOptions.IMAGE_DECODE)),
                    ModelFiles.modelName(model),
                    plan.sha256());
        } catch (BackendException | RuntimeException e) {
            try {
                lease.close();
            } catch (Exception ignored) {
                // the open failure is the error to report
            }
            throw e;
        }
    }

    /** CPU where nvJPEG and NPP do not load (said once in the log). */
    private static ImageDecoding imageDecoding(ImageDecoding configured) {
        return configured == ImageDecoding.CPU || NativeLibraries.loadImageCodecs()
                ? configured
                : ImageDecoding.CPU;
    }
}
