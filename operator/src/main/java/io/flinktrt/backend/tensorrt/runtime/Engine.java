package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.tensorrt.gpu.Cuda;
import io.flinktrt.backend.tensorrt.gpu.TrtLogger;
import io.flinktrt.backend.tensorrt.plan.PlanFile;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata.IoTensor;
import io.flinktrt.backend.tensorrt.gpu.NativeDelete;
import io.flinktrt.backend.tensorrt.plan.EngineIo;
import io.flinktrt.backend.tensorrt.plan.PlanCompatibility;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IRuntime;
import org.apache.flink.annotation.Internal;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
    final List<IoTensor> inputs;
    final List<IoTensor> outputs;
    final List<BatchProfiles.Profile> profiles;

    private Engine(int device, IRuntime runtime, ICudaEngine engine, List<IoTensor> inputs, List<IoTensor> outputs,
                   List<BatchProfiles.Profile> profiles) {
        this.device = device;
        this.runtime = runtime;
        this.engine = engine;
        this.inputs = inputs;
        this.outputs = outputs;
        this.profiles = profiles;
    }

    public static Engine load(Key key, PlanFile plan, boolean allowHostCode) throws BackendException {
        Cuda.setDevice(key.device());
        IRuntime runtime = nvinfer.createInferRuntime(TrtLogger.INSTANCE);
        if (runtime == null || runtime.isNull()) {
            throw new BackendException("TensorRT could not create a runtime; see the TensorRT errors logged above.");
        }
        ICudaEngine engine = null;
        try (BytePointer blob = new BytePointer(plan.bytes())) { // TensorRT copies what it keeps
            runtime.setEngineHostCodeAllowed(allowHostCode && plan.metadata().flags().versionCompatible());
            engine = runtime.deserializeCudaEngine(blob, plan.bytes().length);
            if (engine == null || engine.isNull()) {
                throw new BackendException("TensorRT could not deserialize " + plan.path() + " although its checksum and"
                        + " metadata match (TensorRT " + plan.metadata().tensorRtVersion() + ", " + plan.metadata().gpuName()
                        + "); the reason is in the TensorRT errors logged above. " + PlanCompatibility.REBUILD);
            }
            List<IoTensor> inputs = new ArrayList<>();
            List<IoTensor> outputs = new ArrayList<>();
            for (IoTensor io : EngineIo.describe(engine)) {
                io.wireType(); // fails here for a type requests and results cannot carry
                if (io.shape().length == 0) {
                    throw new BackendException("Tensor " + io.name() + " is a scalar; the first dimension of every"
                            + " input and output must be the batch.");
                }
                (io.input() ? inputs : outputs).add(io);
            }
            List<BatchProfiles.Profile> profiles = batchProfiles(engine, inputs);
            // Once per (plan, GPU) and JVM: the cluster step of scripts/gpu-bench.sh counts these lines.
            LoggerFactory.getLogger(Engine.class).info("Deserialized the TensorRT engine of {} on GPU {} ({} bytes of plan)",
                    plan.path(), key.device(), plan.bytes().length);
            return new Engine(key.device(), runtime, engine, List.copyOf(inputs), List.copyOf(outputs), profiles);
        } catch (BackendException | RuntimeException e) {
            NativeDelete.delete(engine, ICudaEngine::new);
            NativeDelete.delete(runtime, IRuntime::new);
            throw e;
        }
    }

    /**
     * The batch range of every profile; also checks that only the batch dimension of an input
     * varies, since a runner's per-sample shapes are fixed.
     */
    private static List<BatchProfiles.Profile> batchProfiles(ICudaEngine engine, List<IoTensor> inputs) throws BackendException {
        List<BatchProfiles.Profile> profiles = new ArrayList<>();
        for (int p = 0; p < engine.getNbOptimizationProfiles(); p++) {
            long[] batch = null;
            for (IoTensor input : inputs) {
                long[] min = EngineIo.dims(engine.getProfileShape(input.name(), p, nvinfer.OptProfileSelector.kMIN));
                long[] opt = EngineIo.dims(engine.getProfileShape(input.name(), p, nvinfer.OptProfileSelector.kOPT));
                long[] max = EngineIo.dims(engine.getProfileShape(input.name(), p, nvinfer.OptProfileSelector.kMAX));
                if (!Arrays.equals(Arrays.copyOfRange(min, 1, min.length), Arrays.copyOfRange(max, 1, max.length))) {
                    throw new BackendException("Input " + input.name() + " varies beyond its batch dimension in profile " + p
                            + " (" + ShapeRange.format(min) + " to " + ShapeRange.format(max) + "); a runner needs fixed"
                            + " sample shapes. Rebuild the plan with batch buckets and fixed sample dimensions.");
                }
                long[] range = {min[0], opt[0], max[0]};
                if (batch != null && !Arrays.equals(batch, range)) {
                    throw new BackendException("The inputs of profile " + p + " disagree on the batch range: "
                            + Arrays.toString(batch) + " and " + Arrays.toString(range) + " (" + input.name() + ").");
                }
                batch = range;
            }
            profiles.add(new BatchProfiles.Profile(p, (int) batch[0], (int) batch[1], (int) batch[2]));
        }
        return List.copyOf(profiles);
    }

    @Override
    public void close() throws BackendException {
        Cuda.setDevice(device);
        NativeDelete.delete(engine, ICudaEngine::new);
        NativeDelete.delete(runtime, IRuntime::new);
    }
}
