package io.flinktrt.sql;

import io.flinktrt.image.ImageSettings;
import io.flinktrt.operator.InferenceOptions;
import io.flinktrt.text.TextSettings;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;
import java.util.List;

/**
 * The {@code WITH} options of {@code CREATE MODEL ... WITH ('provider' = 'tensorrt' | 'onnxruntime'
 * | 'auto', ...)}: the DataStream operator's settings ({@link InferenceOptions}) under SQL-style
 * keys. Backend settings pass through with their own prefixes ({@code tensorrt.*}, {@code
 * onnxruntime.*}).
 */
@PublicEvolving
public final class ModelProviderOptions {

    private ModelProviderOptions() {}

    public static final ConfigOption<String> MODEL =
            ConfigOptions.key("model")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Path of the model where the statement is planned and on every task manager:"
                                    + " an ONNX file, or a TensorRT plan built with build-engine (its .json metadata next to"
                                    + " it). The model's inputs and outputs are checked against INPUT and OUTPUT when the"
                                    + " statement is planned. With 'model-repository': the model's name there.");

    public static final ConfigOption<String> MODEL_REPOSITORY =
            ConfigOptions.key("model-repository")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "A model repository (<repository>/<model>/<version>/model.onnx or model.plan), the"
                                    + " same path where the statement is planned and on every task manager. The version"
                                    + " 'model-version' picks is read when the job starts and serves until it restarts"
                                    + " (a DataStream job swaps versions at checkpoints; ML_PREDICT has no such hook).");

    public static final ConfigOption<String> MODEL_VERSION =
            ConfigOptions.key("model-version")
                    .stringType()
                    .defaultValue(InferenceOptions.MODEL_VERSION.defaultValue())
                    .withDescription(
                            "latest, or the version number of the repository's model to serve.");

    public static final ConfigOption<String> SEQUENCE_LENGTHS =
            ConfigOptions.key("sequence-lengths")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For a model whose inputs vary in length (text), the lengths a batch runs at,"
                                    + " e.g. 16,32,64,128. See "
                                    + InferenceOptions.SEQUENCE_LENGTHS.key()
                                    + ".");

    public static final ConfigOption<Integer> MAX_BATCH =
            ConfigOptions.key("max-batch")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Most rows in one batch; 0 takes the model's limit (for TensorRT the largest"
                                    + " optimization profile's max). See "
                                    + InferenceOptions.MAX_BATCH_SIZE.key()
                                    + ".");

    public static final ConfigOption<Duration> MAX_DELAY =
            ConfigOptions.key("max-delay")
                    .durationType()
                    .defaultValue(InferenceOptions.MAX_DELAY.defaultValue())
                    .withDescription(
                            "Longest time the oldest row of a batch waits for the batch to fill.");

    public static final ConfigOption<Integer> BUFFERS =
            ConfigOptions.key("buffers")
                    .intType()
                    .defaultValue(InferenceOptions.BUFFERS_IN_FLIGHT.defaultValue())
                    .withDescription(
                            "Batches per slot in flight at once: one is filled, one runs on the device,"
                                    + " one is read. See "
                                    + InferenceOptions.BUFFERS_IN_FLIGHT.key()
                                    + ".");

    public static final ConfigOption<Integer> DEVICE =
            ConfigOptions.key("device")
                    .intType()
                    .defaultValue(InferenceOptions.DEVICE.defaultValue())
                    .withDescription(
                            "GPU index used when the task manager has no Flink external resource named"
                                    + " by 'gpu-resource'.");

    public static final ConfigOption<String> GPU_RESOURCE =
            ConfigOptions.key("gpu-resource")
                    .stringType()
                    .defaultValue("gpu")
                    .withDescription(
                            "Name of the Flink external resource that lists the task manager's GPUs"
                                    + " (external-resources: gpu); the slots of a task manager share them out.");

    public static final ConfigOption<Duration> ROW_TIMEOUT =
            ConfigOptions.key("row-timeout")
                    .durationType()
                    .defaultValue(InferenceOptions.TIMEOUT.defaultValue())
                    .withDescription(
                            "A row without a result after this long is a bad row (see"
                                    + " 'error-handling-strategy'). Must be shorter than ML_PREDICT's own 'timeout'"
                                    + " (table.exec.async-ml-predict.timeout, 3 min by default), which fails the job.");

    public static final ConfigOption<Boolean> REJECT_NON_FINITE =
            ConfigOptions.key("reject-non-finite")
                    .booleanType()
                    .defaultValue(InferenceOptions.REJECT_NON_FINITE.defaultValue())
                    .withDescription(
                            "Treat rows with NaN or Inf in a floating-point input as bad rows instead of"
                                    + " running them. Off by default, as in Triton and the DataStream operator.");

    public static final ConfigOption<ErrorHandlingStrategy> ERROR_HANDLING_STRATEGY =
            ConfigOptions.key("error-handling-strategy")
                    .enumType(ErrorHandlingStrategy.class)
                    .defaultValue(ErrorHandlingStrategy.EMIT)
                    .withDescription(
                            "What a bad row (a null or wrong-length input, a non-finite value when"
                                    + " rejected, a timeout, a backend failure of that row alone) does: EMIT it with"
                                    + " null outputs and the reason in the 'error-column' (the default: a bad row"
                                    + " would fail again after every restart and stop the whole stream), or FAILOVER"
                                    + " the job.");

    public static final ConfigOption<String> ERROR_COLUMN =
            ConfigOptions.key("error-column")
                    .stringType()
                    .defaultValue("error")
                    .withDescription(
                            "OUTPUT column (STRING) that receives why a row is bad, null for good rows."
                                    + " Optional: without it, the reason is logged and counted only.");

    public static final ConfigOption<String> TOKENIZER =
            ConfigOptions.key("tokenizer")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "A HuggingFace tokenizer.json, the same path where the statement is planned and on"
                                    + " every task manager (read from the file, never downloaded). Required when INPUT"
                                    + " is one STRING column: each row's text is tokenized into the model's input_ids,"
                                    + " attention_mask and token_type_ids (those it has), padded to its sequence length,"
                                    + " on the slot's copy threads. See "
                                    + InferenceOptions.TOKENIZER.key()
                                    + ".");

    public static final ConfigOption<Integer> MAX_TEXT_TOKENS =
            ConfigOptions.key("max-text-tokens")
                    .intType()
                    .defaultValue(InferenceOptions.MAX_TEXT_TOKENS.defaultValue())
                    .withDescription(
                            "0: a text with more tokens than the model's sequence length is cut there (the"
                                    + " OUTPUT column 'truncated', if declared, says so); N: a text of more than N"
                                    + " tokens is a bad row (TEXT_TOO_LONG, see 'error-handling-strategy').");

    public static final ConfigOption<TextSettings.Pooling> POOLING =
            ConfigOptions.key("pooling")
                    .enumType(TextSettings.Pooling.class)
                    .defaultValue(TextSettings.Pooling.NONE)
                    .withDescription(
                            "mean or cls: the OUTPUT column 'embedding' ARRAY<FLOAT> is pooled from the model's"
                                    + " first output (or 'answer-output'), hidden states [batch, tokens, hidden]: the"
                                    + " mean over the attention mask, or the first token. Needed by 'embedding'; none"
                                    + " (the default) for label outputs.");

    public static final ConfigOption<Boolean> NORMALIZE =
            ConfigOptions.key("normalize")
                    .booleanType()
                    .defaultValue(InferenceOptions.NORMALIZE.defaultValue())
                    .withDescription("L2-normalise the pooled 'embedding' (with 'pooling').");

    public static final ConfigOption<Integer> TOP_K =
            ConfigOptions.key("top-k")
                    .intType()
                    .defaultValue(1)
                    .withDescription(
                            "How many labels the OUTPUT columns 'labels' ARRAY<STRING> and 'scores'"
                                    + " ARRAY<FLOAT> carry, most probable first (softmax over the model's logits"
                                    + " [batch, classes]); 'label' STRING and 'score' FLOAT carry the first of them."
                                    + " Used only with 'labels'.");

    public static final ConfigOption<String> LABELS =
            ConfigOptions.key("labels")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "A file with one label per line in the classifier's output order, the same path"
                                    + " where the statement is planned and on every task manager. Needed by the OUTPUT"
                                    + " columns 'label', 'score', 'labels' and 'scores'.");

    public static final ConfigOption<String> ANSWER_OUTPUT =
            ConfigOptions.key("answer-output")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The model output that 'pooling' or the labels are made from; unset: the"
                                    + " model's first output.");

    public static final ConfigOption<Boolean> IMAGE =
            ConfigOptions.key("image")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "INPUT is one BYTES column holding an encoded photo (JPEG or 8-bit PNG), decoded"
                                    + " (baseline JPEGs on the GPU with TensorRT, the rest on the task managers'"
                                    + " CPUs) into the model's only input (uint8 [batch, height,"
                                    + " width, 3] or float32 [batch, 3, height, width]); OUTPUT takes the labels"
                                    + " columns 'label', 'score', 'labels', 'scores' (with 'labels'). A bad image is a"
                                    + " bad row (INVALID_IMAGE, UNSUPPORTED_IMAGE, IMAGE_TOO_LARGE).");

    public static final ConfigOption<List<Float>> IMAGE_MEAN =
            ConfigOptions.key("image-mean")
                    .floatType()
                    .asList()
                    .defaultValues(ImageSettings.IMAGENET_MEAN.toArray(new Float[0]))
                    .withDescription(
                            "With 'image': R;G;B means subtracted from pixels scaled to 0..1, for a float32"
                                    + " input.");

    public static final ConfigOption<List<Float>> IMAGE_STD =
            ConfigOptions.key("image-std")
                    .floatType()
                    .asList()
                    .defaultValues(ImageSettings.IMAGENET_STD.toArray(new Float[0]))
                    .withDescription(
                            "With 'image': R;G;B standard deviations pixels are divided by, for a float32"
                                    + " input.");

    public static final ConfigOption<Long> MAX_IMAGE_PIXELS =
            ConfigOptions.key("max-image-pixels")
                    .longType()
                    .defaultValue(ImageSettings.DEFAULT_MAX_PIXELS)
                    .withDescription(
                            "With 'image': an image whose header declares more pixels is a bad row"
                                    + " (IMAGE_TOO_LARGE), refused before it is decoded.");
}
