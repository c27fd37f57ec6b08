package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.tensorrt.gpu.Cuda;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;
import io.flinktrt.backend.tensorrt.gpu.NativeDelete;
import io.flinktrt.backend.tensorrt.gpu.NativeLibraries;
import io.flinktrt.backend.tensorrt.gpu.TrtLogger;
import io.flinktrt.backend.tensorrt.gpu.TrtTypes;
import io.flinktrt.backend.tensorrt.plan.EngineIo;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;
import io.flinktrt.backend.tensorrt.plan.PlanTensors;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;
import io.flinktrt.onnx.Uint8Inputs;
import io.flinktrt.onnx.UnsupportedModelException;

import org.apache.flink.annotation.Internal;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.IRuntime;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Builds a TensorRT plan from an ONNX model and writes it with its {@link PlanMetadata}: parse
 * (every failing node listed), configure (precision, INT8 calibration, profiles, workspace, tactic
 * sources, timing cache), build, then deserialize the result once to record its real inputs and
 * outputs. Builder objects are deleted in TensorRT's order: parser, config, network, builder.
 */
@Internal
public final class EngineBuilder {

    /** Calibration runs at this batch, or fewer when fewer samples are given. */
    static final int CALIBRATION_BATCH = 32;

    /** The plan written, and its metadata. */
    public record Result(Path plan, PlanMetadata metadata) {}

    private EngineBuilder() {}

    /**
     * @param progress receives one line every 10 s while TensorRT builds
     */
    public static Result build(BuildOptions options, Consumer<String> progress)
            throws BackendException {
        NativeLibraries.loadOnnxParser();
        TrtLogger.INSTANCE.verbose(options.verbose());
        GpuInfo gpu = GpuProbe.probe(options.device(), false);
        Cuda.setDevice(options.device());
        long start = System.nanoTime();
        IBuilder builder = nvinfer.createInferBuilder(TrtLogger.INSTANCE);
        if (builder == null || builder.isNull()) {
            throw new BackendException(
                    "TensorRT could not create a builder (see the TensorRT errors logged above)."
                            + " Building needs libnvinfer_builder_resource.so.10.6.0 next to libnvinfer.so.10.");
        }
        INetworkDefinition network = null;
        IParser parser = null;
        IBuilderConfig config = null;
        ITimingCache timingCache = null;
        EntropyCalibrator calibrator = null;
        try {
            // TensorRT 10 networks are always explicit-batch; strongly typed is the one flag left
            network =
                    builder.createNetworkV2(
                            options.stronglyTyped()
                                    ? 1
                                            << nvinfer.NetworkDefinitionCreationFlag.kSTRONGLY_TYPED
                                                    .value
                                    : 0);
            parser = nvonnxparser.createParser(network, TrtLogger.INSTANCE);
            parse(parser, options.onnx(), progress);
            Map<String, long[]> inputs = networkInputs(network);
            List<Map<String, ShapeRange>> profiles;
            try {
                profiles =
                        OptimizationProfiles.plan(
                                inputs,
                                options.shapes(),
                                options.batchBuckets(),
                                options.sequenceLengths());
            } catch (IllegalArgumentException e) {
                throw new BackendException(e.getMessage(), e);
            }
            config = builder.createBuilderConfig();
            config.setMemoryPoolLimit(
                    nvinfer.MemoryPoolType.kWORKSPACE, options.workspaceMiB() << 20);
            config.setBuilderOptimizationLevel(options.optimizationLevel());
            if (!config.setTacticSources(tacticBits(options.tacticSources()))) {
                throw new BackendException(
                        "TensorRT refused tactic sources " + options.tacticSources());
            }
            if (options.fp16()) {
                config.setFlag(nvinfer.BuilderFlag.kFP16);
            }
            if (options.versionCompatible()) {
                config.setFlag(nvinfer.BuilderFlag.kVERSION_COMPATIBLE);
            }
            for (Map<String, ShapeRange> profile : profiles) {
                addProfile(builder, config, profile);
            }
            if (options.int8()) {
                calibrator =
                        calibrator(
                                options,
                                builder,
                                config,
                                network,
                                profiles.get(profiles.size() - 1));
            }
            timingCache = loadTimingCache(config, options.timingCache());
            byte[] plan;
            try (BuildProgress ignored =
                    new BuildProgress("building " + options.onnx().getFileName(), progress)) {
                IHostMemory serialized = builder.buildSerializedNetwork(network, config);
                if (calibrator != null && calibrator.failure() != null) {
                    throw new BackendException("INT8 calibration failed: " + calibrator.failure());
                }
                if (serialized == null || serialized.isNull()) {
                    throw new BackendException(
                            "TensorRT could not build "
                                    + options.onnx()
                                    + "; the reason is in the TensorRT errors logged above.");
                }
                plan = copyOut(serialized);
                NativeDelete.delete(serialized, IHostMemory::new);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            saveTimingCache(timingCache, options.timingCache());
            return write(options, gpu, plan, seconds);
        } finally {
            NativeDelete.delete(config, IBuilderConfig::new);
            NativeDelete.delete(timingCache, ITimingCache::new);
            if (calibrator != null) {
                calibrator.release();
            }
            // IParser has no Java-side constructor, so its delete cannot be borrowed: a few KB of
            // host memory per build.
            NativeDelete.delete(network, INetworkDefinition::new);
            NativeDelete.delete(builder, IBuilder::new);
        }
    }

    private static void parse(IParser parser, Path onnx, Consumer<String> progress)
            throws BackendException {
        if (!Files.isRegularFile(onnx)) {
            throw new BackendException("ONNX model " + onnx + " does not exist or is not a file.");
        }
        Optional<Uint8Inputs.Rewritten> rewritten = rewriteUint8Inputs(onnx);
        rewritten.ifPresent(
                r ->
                        r.changes()
                                .forEach(
                                        change ->
                                                progress.accept(
                                                        "For TensorRT's uint8 rule: " + change)));
        try (BytePointer model = rewritten.map(r -> new BytePointer(r.model())).orElse(null)) {
            if (model == null
                    ? parser.parseFromFile(onnx.toString(), ILogger.Severity.kWARNING.value)
                    : parser.parse(
                            model,
                            model.capacity(),
                            onnx.toString())) { // the path locates external weights
                return;
            }
        }
        StringBuilder message = new StringBuilder("TensorRT's ONNX parser rejected " + onnx + ":");
        for (int i = 0; i < parser.getNbErrors(); i++) {
            IParserError error = parser.getError(i);
            message.append("\n  node ").append(error.node());
            if (error.nodeName() != null && !error.nodeName().isEmpty()) {
                message.append(" '").append(error.nodeName()).append("'");
            }
            if (error.nodeOperator() != null && !error.nodeOperator().isEmpty()) {
                message.append(" (").append(error.nodeOperator()).append(")");
            }
            message.append(": ")
                    .append(error.desc())
                    .append(" [")
                    .append(error.code().intern())
                    .append(", ")
                    .append(error.file())
                    .append(":")
                    .append(error.line())
                    .append("]");
        }
        throw new BackendException(message.toString());
    }

    /**
     * TensorRT takes uint8 only at a network's edges: models that move a uint8 frame before casting
     * it are rewritten.
     */
    private static Optional<Uint8Inputs.Rewritten> rewriteUint8Inputs(Path onnx)
            throws BackendException {
        try {
            return Uint8Inputs.forTensorRt(Files.readAllBytes(onnx));
        } catch (UnsupportedModelException e) {
            throw new BackendException(
                    "TensorRT cannot build " + onnx + " with its uint8 input: " + e.getMessage(),
                    e);
        } catch (IOException e) {
            throw new BackendException("ONNX model " + onnx + " is unreadable: " + e, e);
        } catch (IllegalArgumentException e) {
            return Optional
                    .empty(); // not a ModelProto: TensorRT's parser says what is wrong with it
        }
    }

    private static Map<String, long[]> networkInputs(INetworkDefinition network) {
        Map<String, long[]> inputs = new LinkedHashMap<>();
        for (int i = 0; i < network.getNbInputs(); i++) {
            ITensor input = network.getInput(i);
            inputs.put(input.getName(), EngineIo.dims(input.getDimensions()));
        }
        return inputs;
    }

    private static void addProfile(
            IBuilder builder, IBuilderConfig config, Map<String, ShapeRange> ranges)
            throws BackendException {
        IOptimizationProfile profile = builder.createOptimizationProfile(); // owned by the builder
        for (Map.Entry<String, ShapeRange> input : ranges.entrySet()) {
            ShapeRange r = input.getValue();
            boolean ok =
                    setDims(profile, input.getKey(), nvinfer.OptProfileSelector.kMIN, r.min())
                            && setDims(
                                    profile,
                                    input.getKey(),
                                    nvinfer.OptProfileSelector.kOPT,
                                    r.opt())
                            && setDims(
                                    profile,
                                    input.getKey(),
                                    nvinfer.OptProfileSelector.kMAX,
                                    r.max());
            if (!ok) {
                throw new BackendException(
                        "TensorRT refused shapes " + r + " for input " + input.getKey());
            }
        }
        if (config.addOptimizationProfile(profile) < 0) {
            throw new BackendException("TensorRT refused the optimization profile " + ranges);
        }
    }

    private static boolean setDims(
            IOptimizationProfile profile,
            String input,
            nvinfer.OptProfileSelector which,
            long[] shape) {
        try (var dims = EngineIo.toDims(shape)) {
            return profile.setDimensions(input, which, dims);
        }
    }

    private static int tacticBits(List<String> names) {
        int bits = 0;
        for (String name : names) {
            bits |= 1 << nvinfer.TacticSource.valueOf("k" + name).value;
        }
        return bits;
    }

    /**
     * Calibration runs at one fixed shape: the given profile's opt shape at the calibration batch.
     */
    private static EntropyCalibrator calibrator(
            BuildOptions options,
            IBuilder builder,
            IBuilderConfig config,
            INetworkDefinition network,
            Map<String, ShapeRange> profile)
            throws BackendException {
        Map<String, Integer> sampleBytes = new LinkedHashMap<>();
        for (int i = 0; i < network.getNbInputs(); i++) {
            ITensor input = network.getInput(i);
            long[] opt = profile.get(input.getName()).opt();
            long elements = 1;
            for (int d = 1; d < opt.length; d++) {
                elements *= opt[d];
            }
            sampleBytes.put(
                    input.getName(),
                    Math.toIntExact(
                            elements
                                    * DataTypes.byteSize(
                                            TrtTypes.toWireOrThrow(
                                                    input.getType(), input.getName()))));
        }
        CalibrationSamples samples = null;
        int batch = 1;
        try {
            if (!EntropyCalibrator.cacheExists(options.calibrationCache())) {
                if (options.calibrationData() == null) {
                    throw new BackendException(
                            "INT8 needs calibration data (a folder of raw tensors or an .avro file of"
                                    + " requests), or an existing calibration cache.");
                }
                samples = CalibrationSamples.read(options.calibrationData(), sampleBytes);
                batch = Math.min(CALIBRATION_BATCH, samples.count());
            }
        } catch (IOException e) {
            throw new BackendException("Calibration data unusable: " + e.getMessage(), e);
        }
        IOptimizationProfile calibration = builder.createOptimizationProfile();
        for (Map.Entry<String, ShapeRange> input : profile.entrySet()) {
            long[] shape = input.getValue().opt().clone();
            shape[0] = batch;
            for (nvinfer.OptProfileSelector which : nvinfer.OptProfileSelector.values()) {
                setDims(calibration, input.getKey(), which, shape);
            }
        }
        config.setFlag(nvinfer.BuilderFlag.kINT8);
        EntropyCalibrator calibrator =
                new EntropyCalibrator(samples, sampleBytes, batch, options.calibrationCache());
        config.setInt8Calibrator(calibrator);
        if (!config.setCalibrationProfile(calibration)) {
            calibrator.release();
            throw new BackendException(
                    "TensorRT refused the calibration profile (batch " + batch + ")");
        }
        return calibrator;
    }

    private static ITimingCache loadTimingCache(IBuilderConfig config, Path file)
            throws BackendException {
        if (file == null) {
            return null;
        }
        byte[] bytes = new byte[0];
        try {
            if (Files.isRegularFile(file)) {
                bytes = Files.readAllBytes(file);
            }
        } catch (IOException e) {
            throw new BackendException("Timing cache " + file + " is unreadable: " + e, e);
        }
        try (BytePointer blob = new BytePointer(bytes.length == 0 ? 1 : bytes.length)) {
            blob.put(bytes);
            ITimingCache cache =
                    config.createTimingCache(bytes.length == 0 ? null : blob, bytes.length);
            if (cache == null || cache.isNull() || !config.setTimingCache(cache, false)) {
                throw new BackendException(
                        "TensorRT refused timing cache "
                                + file
                                + " (built by another TensorRT version or GPU?); delete it to start a new one.");
            }
            return cache;
        }
    }

    private static void saveTimingCache(ITimingCache cache, Path file) throws BackendException {
        if (cache == null) {
            return;
        }
        IHostMemory serialized = cache.serialize();
        try {
            Files.write(file, copyOut(serialized));
        } catch (IOException e) {
            throw new BackendException("Could not save timing cache " + file + ": " + e, e);
        } finally {
            NativeDelete.delete(serialized, IHostMemory::new);
        }
    }

    private static byte[] copyOut(IHostMemory memory) {
        byte[] bytes = new byte[Math.toIntExact(memory.size())];
        new BytePointer(memory.data()).capacity(memory.size()).get(bytes);
        return bytes;
    }

    private static Result write(BuildOptions options, GpuInfo gpu, byte[] plan, double seconds)
            throws BackendException {
        PlanTensors tensors = describe(plan, options.versionCompatible());
        String calibration =
                !options.int8()
                        ? ""
                        : "data="
                                + Objects.toString(options.calibrationData(), "")
                                + " cache="
                                + Objects.toString(options.calibrationCache(), "");
        try {
            PlanMetadata metadata =
                    new PlanMetadata(
                            PlanMetadata.FORMAT_VERSION,
                            gpu.tensorRtVersion(),
                            gpu.cudaRuntimeVersion(),
                            gpu.name(),
                            gpu.computeCapability(),
                            ModelFiles.sha256(plan),
                            plan.length,
                            options.onnx().getFileName().toString(),
                            ModelFiles.sha256(options.onnx()),
                            new PlanMetadata.BuildFlags(
                                    options.fp16(),
                                    options.int8(),
                                    options.versionCompatible(),
                                    options.tacticSources(),
                                    options.workspaceMiB(),
                                    options.optimizationLevel(),
                                    options.batchBuckets(),
                                    calibration,
                                    options.stronglyTyped()),
                            tensors,
                            Instant.now().toString(),
                            Math.round(seconds * 100) / 100.0,
                            List.of());
            Path parent = options.plan().toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Files.write(options.plan(), plan);
            metadata.write(PlanMetadata.sidecarOf(options.plan()));
            return new Result(options.plan(), metadata);
        } catch (IOException e) {
            throw new BackendException("Could not write " + options.plan() + ": " + e, e);
        }
    }

    /** Deserializes the fresh plan once to record what the engine really takes and gives. */
    private static PlanTensors describe(byte[] plan, boolean versionCompatible)
            throws BackendException {
        IRuntime runtime = nvinfer.createInferRuntime(TrtLogger.INSTANCE);
        ICudaEngine engine = null;
        try (Pointer blob = new BytePointer(plan)) {
            runtime.setEngineHostCodeAllowed(versionCompatible);
            engine = runtime.deserializeCudaEngine(blob, plan.length);
            if (engine == null || engine.isNull()) {
                throw new BackendException(
                        "TensorRT built a plan it cannot load back; see the TensorRT errors above.");
            }
            return EngineIo.describe(engine);
        } finally {
            NativeDelete.delete(engine, ICudaEngine::new);
            NativeDelete.delete(runtime, IRuntime::new);
        }
    }
}
