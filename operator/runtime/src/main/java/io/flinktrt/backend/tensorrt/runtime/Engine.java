package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.gpu.Cuda;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.gpu.NativeDelete;
import io.flinktrt.backend.tensorrt.gpu.TrtLogger;
import io.flinktrt.backend.tensorrt.plan.EngineIo;
import io.flinktrt.backend.tensorrt.plan.PlanCompatibility;
import io.flinktrt.backend.tensorrt.plan.PlanFile;
import io.flinktrt.backend.tensorrt.plan.PlanTensors;

import org.apache.flink.annotation.Internal;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IRuntime;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One deserialized engine on one GPU, shared by every runner of the JVM on that GPU (weights once),
 * with the runtime that made it. Closed by the last runner: engine first, then runtime.
 */
@Internal
public final class Engine implements AutoCloseable {

    /** What a shared engine is keyed by: the same plan bytes on the same GPU. */
    public record Key(Path plan, String sha256, int device) {}

    final int device;
    final IRuntime runtime;
    final ICudaEngine engine;
    final List<TensorSpec> inputs;
    final List<TensorSpec> outputs;
    final List<BatchProfiles.Profile> profiles;

    /** Inputs and outputs whose dimension after the batch is a sequence length; empty if none. */
    final Set<String> sequenceTensors;

    /** {@link PlanTensors#sequenceLengths()}: empty if the plan has no sequence axis. */
    final List<Integer> sequenceLengths;

    private Engine(
            int device,
            IRuntime runtime,
            ICudaEngine engine,
            List<TensorSpec> inputs,
            List<TensorSpec> outputs,
            List<BatchProfiles.Profile> profiles,
            Set<String> sequenceTensors,
            List<Integer> sequenceLengths) {
        this.sequenceTensors = sequenceTensors;
        this.sequenceLengths = sequenceLengths;
        this.device = device;
        this.runtime = runtime;
        this.engine = engine;
        this.inputs = inputs;
        this.outputs = outputs;
        this.profiles = profiles;
    }

    public static Engine load(Key key, PlanFile plan, GpuInfo gpu, boolean allowHostCode)
            throws BackendException {
        Cuda.setDevice(key.device());
        IRuntime runtime = nvinfer.createInferRuntime(TrtLogger.INSTANCE);
        if (runtime == null || runtime.isNull()) {
            throw new BackendException(
                    "TensorRT could not create a runtime; see the TensorRT errors logged above.");
        }
        ICudaEngine engine = null;
        try (BytePointer blob = new BytePointer(plan.bytes())) { // TensorRT copies what it keeps
            runtime.setEngineHostCodeAllowed(
                    allowHostCode && plan.metadata().flags().versionCompatible());
            engine = runtime.deserializeCudaEngine(blob, plan.bytes().length);
            if (engine == null || engine.isNull()) {
                throw new BackendException(
                        "TensorRT could not deserialize "
                                + plan.path()
                                + " although its checksum and"
                                + " metadata match (TensorRT "
                                + plan.metadata().tensorRtVersion()
                                + ", "
                                + plan.metadata().gpuName()
                                + "); the reason is in the TensorRT errors logged above. "
                                + PlanCompatibility.REBUILD);
            }
            PlanTensors io =
                    EngineIo.describe(engine); // fails here for an engine a runner cannot serve
            List<BatchProfiles.Profile> profiles = new ArrayList<>();
            for (PlanTensors.BatchRange range : io.profiles()) {
                profiles.add(
                        new BatchProfiles.Profile(
                                profiles.size(),
                                range.min(),
                                range.opt(),
                                range.max(),
                                range.minLength(),
                                range.maxLength()));
            }
            // Once per (plan, GPU) and JVM: scripts/gpu-bench.sh's cluster step counts these lines.
            LoggerFactory.getLogger(Engine.class)
                    .info(
                            "Deserialized the TensorRT engine of {} on GPU {} (PCI {}; {} bytes of plan)",
                            plan.path(),
                            key.device(),
                            gpu.pciBusId(),
                            plan.bytes().length);
            return new Engine(
                    key.device(),
                    runtime,
                    engine,
                    io.inputs(),
                    io.outputs(),
                    List.copyOf(profiles),
                    io.sequenceTensors(),
                    io.sequenceLengths());
        } catch (BackendException | RuntimeException e) {
            NativeDelete.delete(engine, ICudaEngine::new);
            NativeDelete.delete(runtime, IRuntime::new);
            throw e;
        }
    }

    @Override
    public void close() throws BackendException {
        Cuda.setDevice(device);
        NativeDelete.delete(engine, ICudaEngine::new);
        NativeDelete.delete(runtime, IRuntime::new);
    }
}
