package io.flinktrt.backend.tensorrt.plan;

import org.apache.flink.annotation.Internal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The sidecar written next to every plan ({@code model.plan.json}): what it was built with and for,
 * so a plan can be checked before TensorRT deserializes it (TensorRT itself only says
 * "incompatible" once it has tried, and a plan is tied to one TensorRT version and one GPU model).
 *
 * @param formatVersion version of this file's layout
 * @param tensorRtVersion libnvinfer that built the plan, e.g. {@code 10.6.0.26}
 * @param cudaRuntimeVersion CUDA runtime of the build, e.g. {@code 12.6}
 * @param gpuName GPU the plan was built and tuned on
 * @param computeCapability that GPU's compute capability, e.g. {@code 9.0}
 * @param planSha256 SHA-256 of the plan file (hex)
 * @param planBytes size of the plan file
 * @param onnxFile file name of the source model
 * @param onnxSha256 SHA-256 of the source model
 * @param flags how it was built
 * @param tensors every input and output, and the batch range of each optimization profile
 * @param builtAt ISO-8601 instant
 * @param buildSeconds wall time of the build
 * @param pluginLibraries plugin libraries the plan needs loaded besides TensorRT's own ({@code
 *     nvinfer_plugin}); build-engine loads none, so it writes an empty list
 */
@Internal
public record PlanMetadata(
        int formatVersion,
        String tensorRtVersion,
        String cudaRuntimeVersion,
        String gpuName,
        String computeCapability,
        String planSha256,
        long planBytes,
        String onnxFile,
        String onnxSha256,
        BuildFlags flags,
        PlanTensors tensors,
        String builtAt,
        double buildSeconds,
        List<String> pluginLibraries) {

    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * @param versionCompatible built with kVERSION_COMPATIBLE: the plan carries its own runtime
     *     (host code) that the loader must allow explicitly
     * @param tacticSources TensorRT tactic source names that were enabled
     * @param batchBuckets the buckets asked for; empty when the profiles came from --shapes alone
     */
    public record BuildFlags(
            boolean fp16,
            boolean int8,
            boolean versionCompatible,
            List<String> tacticSources,
            long workspaceMiB,
            int optimizationLevel,
            List<Integer> batchBuckets,
            String calibration,
            boolean stronglyTyped) {

        public BuildFlags {
            tacticSources = List.copyOf(tacticSources);
            batchBuckets = List.copyOf(batchBuckets);
        }

        /** Flags of a weakly typed build (and of metadata written before strong typing). */
        public BuildFlags(
                boolean fp16,
                boolean int8,
                boolean versionCompatible,
                List<String> tacticSources,
                long workspaceMiB,
                int optimizationLevel,
                List<Integer> batchBuckets,
                String calibration) {
            this(
                    fp16,
                    int8,
                    versionCompatible,
                    tacticSources,
                    workspaceMiB,
                    optimizationLevel,
                    batchBuckets,
                    calibration,
                    false);
        }
    }

    public PlanMetadata {
        pluginLibraries =
                pluginLibraries == null
                        ? List.of()
                        : List.copyOf(pluginLibraries); // older metadata has none
    }

    /** {@code model.plan} has its metadata in {@code model.plan.json}. */
    public static Path sidecarOf(Path plan) {
        return plan.resolveSibling(plan.getFileName() + ".json");
    }

    public void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }

    public static PlanMetadata read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), PlanMetadata.class);
    }
}
