package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.build.EngineBuilder;
import io.flinktrt.backend.tensorrt.build.OptimizationProfiles;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Plans built from ONNX models when a job is given an {@code .onnx} file, so the {@code auto} backend
 * can use TensorRT without a separate build step. A plan is cached under a name made of the model's
 * SHA-256, the GPU, the TensorRT version and the build settings, so a changed model, GPU or TensorRT
 * gets a fresh build. One build at a time per cache entry, across slots and processes (file lock).
 */
final class OnnxPlanCache {

    /** Where plans are cached; default {@code ~/.cache/flink-tensorrt/plans}. */
    static final String CACHE_DIR = "tensorrt.plan-cache-dir";
    /** {@code true} builds FP16 plans; the default is FP32 (TF32), closest to ONNX Runtime's results. */
    static final String FP16 = "tensorrt.fp16";
    /** Batch buckets of the build, e.g. {@code 1,8,32,64}; default: {@link OptimizationProfiles#DEFAULT_BUCKETS} up to the max batch. */
    static final String BATCH_BUCKETS = "tensorrt.batch-buckets";

    private static final Logger LOG = LoggerFactory.getLogger(OnnxPlanCache.class);
    private static final Object BUILDING = new Object(); // file locks do not exclude threads of one JVM

    private OnnxPlanCache() {}

    static Path planFor(Path onnx, ModelConfig config, GpuInfo gpu) throws BackendException {
        BuildOptions options = options(onnx, config);
        String key;
        try {
            key = ModelFiles.sha256(onnx).substring(0, 16) + "-" + gpu.name().replaceAll("[^A-Za-z0-9]+", "_")
                    + "-cc" + gpu.computeCapability() + "-trt" + gpu.tensorRtVersion() + "-"
                    + ModelFiles.sha256((options.fp16() + "|" + options.batchBuckets()).getBytes()).substring(0, 8);
        } catch (IOException e) {
            throw new BackendException("ONNX model " + onnx + " is unreadable: " + e, e);
        }
        Path dir = Path.of(config.option(CACHE_DIR,
                Path.of(System.getProperty("user.home"), ".cache", "flink-tensorrt", "plans").toString()));
        Path plan = dir.resolve(ModelFiles.modelName(onnx) + "-" + key + ".plan");
        if (Files.isRegularFile(plan)) {
            return plan;
        }
        synchronized (BUILDING) {
            try {
                Files.createDirectories(dir);
                try (FileChannel lockFile = FileChannel.open(dir.resolve(key + ".lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
                    if (Files.isRegularFile(plan)) {
                        return plan; // another process built it while we waited
                    }
                    Path building = dir.resolve(plan.getFileName() + ".building");
                    LOG.info("No TensorRT plan for {} on {} yet: building {} (once; cached in {})", onnx.getFileName(),
                            gpu.name(), plan.getFileName(), dir);
                    EngineBuilder.build(new BuildOptions(onnx, building, options.fp16(), false, null, null,
                            options.shapes(), options.batchBuckets(), options.workspaceMiB(), null,
                            options.optimizationLevel(), options.tacticSources(), false, config.deviceIndex(), false), LOG::info);
                    // the plan moves last: its presence means plan and metadata are complete
                    Files.move(PlanMetadata.sidecarOf(building), PlanMetadata.sidecarOf(plan), StandardCopyOption.ATOMIC_MOVE);
                    Files.move(building, plan, StandardCopyOption.ATOMIC_MOVE);
                    return plan;
                }
            } catch (IOException e) {
                throw new BackendException("Could not cache a TensorRT plan for " + onnx + " in " + dir + ": " + e
                        + ". Set " + CACHE_DIR + " to a writable folder, or build one with build-engine.", e);
            }
        }
    }

    private static BuildOptions options(Path onnx, ModelConfig config) {
        BuildOptions defaults = BuildOptions.defaults(onnx, null);
        List<Integer> buckets = List.of(); // OptimizationProfiles applies its defaults to a dynamic batch
        String given = config.option(BATCH_BUCKETS, "");
        if (!given.isBlank()) {
            buckets = OptimizationProfiles.parseBuckets(given);
        } else if (config.maxBatchSize() > 0) {
            List<Integer> upToMax = new ArrayList<>();
            OptimizationProfiles.DEFAULT_BUCKETS.stream().filter(b -> b < config.maxBatchSize()).forEach(upToMax::add);
            upToMax.add(config.maxBatchSize());
            buckets = upToMax;
        }
        return new BuildOptions(onnx, null, Boolean.parseBoolean(config.option(FP16, "false")), false, null, null,
                defaults.shapes(), buckets, defaults.workspaceMiB(), null, defaults.optimizationLevel(),
                defaults.tacticSources(), false, config.deviceIndex(), false);
    }
}
