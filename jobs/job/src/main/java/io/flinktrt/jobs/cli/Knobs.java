package io.flinktrt.jobs.cli;

import io.flinktrt.operator.InferenceOptions;
import io.flinktrt.sql.ModelProviderOptions;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ConfigOption;

import java.time.Duration;
import java.util.List;

/**
 * The one table of the operator's knobs and their names at each door: the Flink configuration key
 * of the DataStream builder and the job ({@link InferenceOptions}), the {@code WITH} key of
 * ML_PREDICT's {@code CREATE MODEL} ({@link ModelProviderOptions}), and the command-line flag. The
 * names predate this table and stay as they are (savepoints, scripts and statements use them); the
 * table says which belong together, gives the flags their defaults ({@link InferenceDefaults}), and
 * docs/options.md is generated from it (KnobsTest fails when they differ).
 */
@Internal
public final class Knobs {

    /**
     * One knob.
     *
     * @param option its configuration option; null for an ML_PREDICT-only knob
     * @param sql its ML_PREDICT option; null where ML_PREDICT has none (or Flink's own, see notes)
     * @param flag its command-line flag, in milliseconds for a duration; null where the flag is
     *     {@code --set KEY=VALUE}
     * @param note what the table adds, e.g. the Flink option ML_PREDICT uses instead
     */
    public record Knob(ConfigOption<?> option, ConfigOption<?> sql, String flag, String note) {

        /** The flag's default, from the option's; null where the option has none. */
        String flagDefault() {
            if (option == null || !option.hasDefaultValue()) {
                return null;
            }
            Object value = option.defaultValue();
            if (value instanceof List<?> list) { // as the flag takes it: R,G,B
                return String.join(",", list.stream().map(String::valueOf).toList());
            }
            return value instanceof Duration duration
                    ? String.valueOf(duration.toMillis())
                    : value.toString();
        }
    }

    public static final List<Knob> ALL =
            List.of(
                    new Knob(
                            InferenceOptions.MODEL,
                            ModelProviderOptions.MODEL,
                            "--model",
                            "with a repository: --model-name"),
                    new Knob(
                            InferenceOptions.MODEL_REPOSITORY,
                            ModelProviderOptions.MODEL_REPOSITORY,
                            "--model-repository",
                            ""),
                    new Knob(
                            InferenceOptions.MODEL_VERSION,
                            ModelProviderOptions.MODEL_VERSION,
                            "--model-version",
                            ""),
                    new Knob(
                            InferenceOptions.REPOSITORY_POLL_INTERVAL,
                            null,
                            "--repository-poll-ms",
                            "ML_PREDICT: none (the version chosen at start serves until a restart)"),
                    new Knob(
                            InferenceOptions.BACKEND,
                            null,
                            "--backend",
                            "ML_PREDICT: CREATE MODEL's 'provider' (tensorrt, onnxruntime, auto)"),
                    new Knob(InferenceOptions.DEVICE, ModelProviderOptions.DEVICE, "--device", ""),
                    new Knob(
                            InferenceOptions.MAX_BATCH_SIZE,
                            ModelProviderOptions.MAX_BATCH,
                            "--max-batch",
                            ""),
                    new Knob(
                            InferenceOptions.SEQUENCE_LENGTHS,
                            ModelProviderOptions.SEQUENCE_LENGTHS,
                            "--sequence-lengths",
                            ""),
                    new Knob(
                            InferenceOptions.MAX_DELAY,
                            ModelProviderOptions.MAX_DELAY,
                            "--max-delay-ms",
                            ""),
                    new Knob(
                            InferenceOptions.BUFFERS_IN_FLIGHT,
                            ModelProviderOptions.BUFFERS,
                            "--buffers-in-flight",
                            ""),
                    new Knob(
                            InferenceOptions.CAPACITY,
                            null,
                            "--capacity",
                            "ML_PREDICT: Flink's 'max-concurrent-operations'"),
                    new Knob(
                            InferenceOptions.TIMEOUT,
                            ModelProviderOptions.ROW_TIMEOUT,
                            "--timeout-ms",
                            ""),
                    new Knob(
                            InferenceOptions.ORDERED,
                            null,
                            "--ordered",
                            "ML_PREDICT: Flink's 'output-mode'"),
                    new Knob(InferenceOptions.MAX_REQUEST_BYTES, null, null, ""),
                    new Knob(InferenceOptions.MAX_RESULT_BYTES, null, null, ""),
                    new Knob(InferenceOptions.MAX_FAILURE_BYTES, null, null, ""),
                    new Knob(InferenceOptions.MAX_TENSORS, null, null, ""),
                    new Knob(InferenceOptions.MAX_TENSOR_ELEMENTS, null, null, ""),
                    new Knob(
                            InferenceOptions.REJECT_NON_FINITE,
                            ModelProviderOptions.REJECT_NON_FINITE,
                            "--reject-non-finite",
                            ""),
                    new Knob(
                            InferenceOptions.TOKENIZER,
                            ModelProviderOptions.TOKENIZER,
                            "--tokenizer",
                            ""),
                    new Knob(
                            InferenceOptions.MAX_TEXT_TOKENS,
                            ModelProviderOptions.MAX_TEXT_TOKENS,
                            "--max-text-tokens",
                            ""),
                    new Knob(
                            InferenceOptions.POOLING,
                            ModelProviderOptions.POOLING,
                            "--pooling",
                            ""),
                    new Knob(
                            InferenceOptions.NORMALIZE,
                            ModelProviderOptions.NORMALIZE,
                            "--normalize",
                            ""),
                    new Knob(InferenceOptions.TOP_K, ModelProviderOptions.TOP_K, "--top-k", ""),
                    new Knob(InferenceOptions.LABELS, ModelProviderOptions.LABELS, "--labels", ""),
                    new Knob(
                            InferenceOptions.ANSWER_OUTPUT,
                            ModelProviderOptions.ANSWER_OUTPUT,
                            "--answer-output",
                            ""),
                    new Knob(InferenceOptions.IMAGE_INPUT, null, "--image-input", ""),
                    new Knob(
                            InferenceOptions.IMAGE_MEAN,
                            ModelProviderOptions.IMAGE_MEAN,
                            "--image-mean",
                            ""),
                    new Knob(
                            InferenceOptions.IMAGE_STD,
                            ModelProviderOptions.IMAGE_STD,
                            "--image-std",
                            ""),
                    new Knob(
                            InferenceOptions.MAX_IMAGE_PIXELS,
                            ModelProviderOptions.MAX_IMAGE_PIXELS,
                            "--max-image-pixels",
                            ""),
                    new Knob(InferenceOptions.UID, null, null, ""),
                    new Knob(InferenceOptions.NAME, null, null, ""),
                    new Knob(null, ModelProviderOptions.GPU_RESOURCE, null, ""),
                    new Knob(null, ModelProviderOptions.IMAGE, null, ""),
                    new Knob(null, ModelProviderOptions.ERROR_HANDLING_STRATEGY, null, ""),
                    new Knob(null, ModelProviderOptions.ERROR_COLUMN, null, ""));

    private Knobs() {}
}
