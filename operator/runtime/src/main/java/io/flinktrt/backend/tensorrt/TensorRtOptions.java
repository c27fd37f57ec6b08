package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendOptions;
import io.flinktrt.backend.tensorrt.plan.BatchBuckets;
import io.flinktrt.backend.tensorrt.runtime.ImageDecoding;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

import java.util.List;
import java.util.Map;

/** Settings of the TensorRT backend ({@code tensorrt.*}), as Flink {@link ConfigOption}s. */
@PublicEvolving
public final class TensorRtOptions {

    private TensorRtOptions() {}

    public static final ConfigOption<Boolean> ALLOW_HOST_CODE =
            ConfigOptions.key("tensorrt.allow-host-code")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Lets version-compatible plans run the TensorRT code they carry. Only for plans"
                                    + " from a trusted source: that code runs in the task manager.");

    public static final ConfigOption<Integer> CONTEXTS =
            ConfigOptions.key("tensorrt.contexts")
                    .intType()
                    .defaultValue(2)
                    .withDescription(
                            "Execution contexts (each with its stream and device buffers) per slot: batches"
                                    + " on the GPU at once. More overlap one batch's copies with another's kernels, at the"
                                    + " cost of GPU memory; never more than inference.buffers-in-flight.");

    public static final ConfigOption<Boolean> CUDA_GRAPHS =
            ConfigOptions.key("tensorrt.cuda-graphs")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Replays each batch size as a CUDA graph captured at warm-up; false runs every"
                                    + " batch with a plain enqueueV3.");

    public static final ConfigOption<ImageDecoding> IMAGE_DECODE =
            ConfigOptions.key("tensorrt.image-decode")
                    .enumType(ImageDecoding.class)
                    .defaultValue(ImageDecoding.HARDWARE)
                    .withDescription(
                            "Where the JPEGs of an image input are decoded: hardware (nvJPEG on the GPU's"
                                    + " hardware JPEG decoder, its GPU backend where the GPU has none; resized with"
                                    + " NPP), gpu (nvJPEG's GPU backend) or cpu (ImageIO on the copy threads)."
                                    + " Progressive JPEGs and PNGs are decoded on the"
                                    + " CPU in any case, and all images where libnvjpeg and NPP do not load.");

    public static final ConfigOption<String> PLAN_CACHE_DIR =
            ConfigOptions.key("tensorrt.plan-cache-dir")
                    .stringType()
                    .defaultValue(System.getProperty("user.home") + "/.cache/flink-tensorrt/plans")
                    .withDescription(
                            "Where plans built from .onnx models are cached (one per model, GPU, TensorRT"
                                    + " version and build settings).");

    public static final ConfigOption<Boolean> FP16 =
            ConfigOptions.key("tensorrt.fp16")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Builds plans from .onnx models with FP16 kernels allowed; the default, FP32"
                                    + " (TF32), is closest to ONNX Runtime's results.");

    public static final ConfigOption<String> BATCH_BUCKETS =
            ConfigOptions.key("tensorrt.batch-buckets")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Batch buckets of plans built from .onnx models, e.g. 1,8,32,64: one"
                                    + " optimization profile each. Default: "
                                    + BatchBuckets.DEFAULTS
                                    + " up to the max batch size.");

    /** Every TensorRT option, in the order the help lists them. */
    public static final List<ConfigOption<?>> ALL =
            List.of(
                    ALLOW_HOST_CODE,
                    CONTEXTS,
                    CUDA_GRAPHS,
                    IMAGE_DECODE,
                    PLAN_CACHE_DIR,
                    FP16,
                    BATCH_BUCKETS);

    /**
     * Checks every {@code tensorrt.*} setting of {@code options} and returns them typed. Settings
     * of other backends are left alone.
     *
     * @throws IllegalArgumentException naming the setting, what is wrong and what to give instead
     */
    public static Configuration sanityCheck(Map<String, String> options) {
        Configuration config = BackendOptions.parse(options, "tensorrt.", ALL);
        int contexts = config.get(CONTEXTS);
        if (contexts < 1) {
            throw new IllegalArgumentException(
                    CONTEXTS.key()
                            + " must be at least 1, was "
                            + contexts
                            + "; it is the number of batches a slot runs on the GPU at once.");
        }
        if (config.get(PLAN_CACHE_DIR).isBlank()) {
            throw new IllegalArgumentException(
                    PLAN_CACHE_DIR.key()
                            + " is empty; give a writable folder or leave it"
                            + " out for the default.");
        }
        config.getOptional(BATCH_BUCKETS)
                .ifPresent(
                        buckets -> {
                            try {
                                BatchBuckets.parse(buckets);
                            } catch (IllegalArgumentException e) {
                                throw new IllegalArgumentException(
                                        BATCH_BUCKETS.key() + ": " + e.getMessage(), e);
                            }
                        });
        return config;
    }
}
