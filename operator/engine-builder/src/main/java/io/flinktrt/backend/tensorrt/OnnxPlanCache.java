package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.build.EngineBuilder;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.plan.BatchBuckets;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;

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
import java.util.Optional;

/**
 * Plans built from ONNX models when a job is given an {@code .onnx} file, so the {@code auto}
 * backend can use TensorRT without a separate build step. A plan is cached under a name made of the
 * model's SHA-256, the GPU, the TensorRT version and the build settings, so a changed model, GPU or
 * TensorRT gets a fresh build. One build at a time per cache entry, across slots and processes
 * (file lock).
 */
@Internal
public final class OnnxPlanCache implements OnnxPlanBuilder {

    private static final Logger LOG = LoggerFactory.getLogger(OnnxPlanCache.class);
    private static final Object BUILDING =
            new Object(); // file locks do not exclude threads of one JVM

    @Override
    public Path planFor(Path onnx, ModelConfig config, Configuration tensorRt, GpuInfo gpu)
            throws BackendException {
        BuildOptions.Builder options = options(onnx, config, tensorRt);
        String key;
        try {
            key =
                    ModelFiles.sha256(onnx).substring(0, 16)
                            + "-"
                            + gpu.name().replaceAll("[^A-Za-z0-9]+", "_")
                            + "-cc"
                            + gpu.computeCapability()
                            + "-trt"
                            + gpu.tensorRtVersion()
                            + "-"
                            + ModelFiles.sha256(
                                            (tensorRt.get(TensorRtOptions.FP16)
                                                            + "|"
                                                            + buckets(config, tensorRt))
                                                    .getBytes())
                                    .substring(0, 8);
        } catch (IOException e) {
            throw new BackendException("ONNX model " + onnx + " is unreadable: " + e, e);
        }
        Path dir = Path.of(tensorRt.get(TensorRtOptions.PLAN_CACHE_DIR));
        Path plan = dir.resolve(ModelFiles.modelName(onnx) + "-" + key + ".plan");
        if (Files.isRegularFile(plan)) {
            return plan;
        }
        synchronized (BUILDING) {
            try {
                Files.createDirectories(dir);
                try (FileChannel lockFile =
                                FileChannel.open(
                                        dir.resolve(key + ".lock"),
                                        StandardOpenOption.CREATE,
                                        StandardOpenOption.WRITE);
                        FileLock ignored = lockFile.lock()) {
                    if (Files.isRegularFile(plan)) {
                        return plan; // another process built it while we waited
                    }
                    Path building = dir.resolve(plan.getFileName() + ".building");
                    LOG.info(
                            "No TensorRT plan for {} on {} yet: building {} (once; cached in {})",
                            onnx.getFileName(),
                            gpu.name(),
                            plan.getFileName(),
                            dir);
                    EngineBuilder.build(options.setPlan(building).build(), LOG::info);
                    // the plan moves last: its presence means plan and metadata are complete
                    Files.move(
                            PlanMetadata.sidecarOf(building),
                            PlanMetadata.sidecarOf(plan),
                            StandardCopyOption.ATOMIC_MOVE);
                    Files.move(building, plan, StandardCopyOption.ATOMIC_MOVE);
                    return plan;
                }
            } catch (IOException e) {
                throw new BackendException(
                        "Could not cache a TensorRT plan for "
                                + onnx
                                + " in "
                                + dir
                                + ": "
                                + e
                                + ". Set "
                                + TensorRtOptions.PLAN_CACHE_DIR.key()
                                + " to a writable folder, or build one with build-engine.",
                        e);
            }
        }
    }

    /** The build's settings: the defaults, with the options' precision and buckets. */
    private static BuildOptions.Builder options(
            Path onnx, ModelConfig config, Configuration tensorRt) {
        return BuildOptions.builder(onnx, null)
                .setFp16(tensorRt.get(TensorRtOptions.FP16))
                .setBatchBuckets(buckets(config, tensorRt))
                .setDevice(config.deviceIndex());
    }

    /**
     * The buckets asked for; else the defaults up to the max batch; else none (the builder's
     * defaults apply).
     */
    private static List<Integer> buckets(ModelConfig config, Configuration tensorRt) {
        Optional<String> given = tensorRt.getOptional(TensorRtOptions.BATCH_BUCKETS);
        if (given.isPresent()) {
            return BatchBuckets.parse(given.get());
        }
        if (config.maxBatchSize() <= 0) {
            return List.of(); // OptimizationProfiles applies its defaults to a dynamic batch
        }
        List<Integer> upToMax = new ArrayList<>();
        BatchBuckets.DEFAULTS.stream().filter(b -> b < config.maxBatchSize()).forEach(upToMax::add);
        upToMax.add(config.maxBatchSize());
        return upToMax;
    }
}
