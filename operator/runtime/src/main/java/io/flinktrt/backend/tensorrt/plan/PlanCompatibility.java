package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;

import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether a plan built as its metadata says can run here. A plan is tied to the TensorRT version
 * that built it and to one GPU model; checked before deserializing, a mismatch gets a message that
 * names both sides instead of TensorRT's "Serialization assertion failed".
 */
@Internal
public final class PlanCompatibility {

    public static final String REBUILD = "Rebuild with build-engine on this machine.";

    /** The only plugin library shipped with the project: TensorRT's own. */
    static final String SHIPPED_PLUGINS = "nvinfer_plugin";

    private PlanCompatibility() {}

    /**
     * @param allowHostCode option {@code tensorrt.allow-host-code}: lets a version-compatible plan
     *     run the code it carries
     */
    public static void check(
            PlanMetadata plan, GpuInfo here, boolean allowHostCode, String planName)
            throws BackendException {
        List<String> problems = new ArrayList<>();
        if (plan.formatVersion() != PlanMetadata.FORMAT_VERSION) {
            problems.add(
                    "metadata format "
                            + plan.formatVersion()
                            + ", this reader knows "
                            + PlanMetadata.FORMAT_VERSION);
        }
        List<String> foreign =
                plan.pluginLibraries().stream()
                        .filter(lib -> !lib.equals(SHIPPED_PLUGINS))
                        .toList();
        if (!foreign.isEmpty()) {
            // a plugin is native code outside TensorRT: this project neither ships nor loads any
            throw new BackendException(
                    "Plan "
                            + planName
                            + " needs plugin libraries "
                            + foreign
                            + ", which are not"
                            + " shipped with flink-tensorrt (only TensorRT's own "
                            + SHIPPED_PLUGINS
                            + "). Rebuild from an ONNX"
                            + " model that uses only TensorRT's built-in layers and plugins.");
        }
        if (plan.flags().versionCompatible()) {
            if (!allowHostCode) {
                throw new BackendException(
                        "Plan "
                                + planName
                                + " is version-compatible: it carries TensorRT code that"
                                + " would run inside this JVM. Set the option tensorrt.allow-host-code=true if you trust its"
                                + " source, or rebuild without version compatibility with build-engine.");
            }
        } else if (!plan.tensorRtVersion().equals(here.tensorRtVersion())) {
            problems.add(
                    "built with TensorRT "
                            + plan.tensorRtVersion()
                            + ", this JVM loads TensorRT "
                            + here.tensorRtVersion());
        }
        if (!plan.computeCapability().equals(here.computeCapability())) {
            problems.add(
                    "built for compute capability "
                            + plan.computeCapability()
                            + " ("
                            + plan.gpuName()
                            + "), GPU "
                            + here.device()
                            + " here is "
                            + here.computeCapability()
                            + " ("
                            + here.name()
                            + ")");
        } else if (!plan.gpuName().equals(here.name())) {
            problems.add(
                    "built and tuned on "
                            + plan.gpuName()
                            + ", GPU "
                            + here.device()
                            + " here is "
                            + here.name());
        }
        if (!problems.isEmpty()) {
            throw new BackendException(
                    "Plan "
                            + planName
                            + " cannot run here: "
                            + String.join("; ", problems)
                            + ". "
                            + REBUILD);
        }
    }
}
