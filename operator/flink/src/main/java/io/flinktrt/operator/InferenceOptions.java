package io.flinktrt.operator;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.tensorrt.plan.BatchBuckets;
import io.flinktrt.image.ImageSettings;
import io.flinktrt.repository.ServingPolicy;
import io.flinktrt.text.TextSettings;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;
import java.util.List;

/** Settings of the inference operator, as Flink {@link ConfigOption}s. */
@PublicEvolving
public final class InferenceOptions {

    private InferenceOptions() {}

    public static final ConfigOption<String> MODEL =
            ConfigOptions.key("inference.model")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Path of the model on every task manager: an ONNX file, or a TensorRT plan"
                                    + " built with build-engine (its .json metadata next to it). With"
                                    + " inference.model-repository: the model's name there.");

    public static final ConfigOption<String> MODEL_REPOSITORY =
            ConfigOptions.key("inference.model-repository")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "A model repository on every task manager (<repository>/<model>/<version>/"
                                    + "model.onnx or model.plan, Triton's layout): inference.model names the model,"
                                    + " inference.model-version picks the version, and a new version replaces the"
                                    + " running one at a checkpoint (docs/operations.md).");

    public static final ConfigOption<String> MODEL_VERSION =
            ConfigOptions.key("inference.model-version")
                    .stringType()
                    .defaultValue("latest")
                    .withDescription(
                            "latest, or a version number to pin; the model's serving.properties in the"
                                    + " repository, when present, overrides it while the job runs.");

    public static final ConfigOption<Duration> REPOSITORY_POLL_INTERVAL =
            ConfigOptions.key("inference.repository-poll-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "How often each subtask looks at the model repository for the versions it should"
                                    + " serve; 0 s: never (the version chosen at start serves until a restart).");

    public static final ConfigOption<String> BACKEND =
            ConfigOptions.key("inference.backend")
                    .stringType()
                    .defaultValue(Backends.AUTO)
                    .withDescription(
                            "tensorrt, onnxruntime, or auto: TensorRT where a GPU and its libraries"
                                    + " load, else ONNX Runtime on the CPU.");

    public static final ConfigOption<Integer> DEVICE =
            ConfigOptions.key("inference.device")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "GPU index used when the task manager has no Flink 'gpu' external resource.");

    public static final ConfigOption<Integer> MAX_BATCH_SIZE =
            ConfigOptions.key("inference.max-batch-size")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Most requests in one batch; 0 takes the model's limit (for TensorRT the"
                                    + " largest optimization profile's max).");

    public static final ConfigOption<String> SEQUENCE_LENGTHS =
            ConfigOptions.key("inference.sequence-lengths")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For a model whose inputs vary in length (text: [batch, tokens]), the lengths a"
                                    + " batch runs at, e.g. 16,32,64,128 (the last the longest): requests wait"
                                    + " with those of their length bucket and a batch is padded only to its"
                                    + " bucket. ONNX Runtime needs it for such a model; a TensorRT plan built"
                                    + " with --sequence-lengths has its own, which this may narrow.");

    public static final ConfigOption<Duration> MAX_DELAY =
            ConfigOptions.key("inference.max-delay")
                    .durationType()
                    .defaultValue(Duration.ofMillis(5))
                    .withDescription(
                            "Longest time the oldest request of a batch waits for the batch to fill.");

    public static final ConfigOption<Integer> BUFFERS_IN_FLIGHT =
            ConfigOptions.key("inference.buffers-in-flight")
                    .intType()
                    .defaultValue(3)
                    .withDescription(
                            "Batches per slot in flight at once: one is filled, one runs on the device, one is read."
                                    + " A backend may run fewer at once on the device (tensorrt.contexts).");

    public static final ConfigOption<Integer> CAPACITY =
            ConfigOptions.key("inference.capacity")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Requests the async operator holds in flight (checkpointed and replayed on"
                                    + " recovery); 0 means buffers-in-flight + 1 times the max batch size, at least 2x.");

    public static final ConfigOption<Duration> TIMEOUT =
            ConfigOptions.key("inference.timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(30))
                    .withDescription(
                            "A request without a result after this long goes to the dead-letter topic"
                                    + " with code TIMEOUT; the job goes on.");

    public static final ConfigOption<Boolean> ORDERED =
            ConfigOptions.key("inference.ordered")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Emit results in input order (true) or as soon as they are ready (false).");

    public static final ConfigOption<Integer> MAX_REQUEST_BYTES =
            ConfigOptions.key("inference.max-request-bytes")
                    .intType()
                    .defaultValue(16 << 20)
                    .withDescription(
                            "Larger records go to the dead-letter topic (REQUEST_TOO_LARGE) undecoded. The Kafka"
                                    + " job's default is the input topic's max.message.bytes.");

    public static final ConfigOption<Integer> MAX_RESULT_BYTES =
            ConfigOptions.key("inference.max-result-bytes")
                    .intType()
                    .noDefaultValue()
                    .withDescription(
                            "Largest encoded result the sink takes; a request whose result could be larger"
                                    + " (its id and metadata are copied into it) goes to the dead-letter topic as"
                                    + " RESULT_TOO_LARGE without running. Unset: no limit; the Kafka job sets the output"
                                    + " topic's (max.message.bytes, and the producer's max.request.size).");

    public static final ConfigOption<Integer> MAX_FAILURE_BYTES =
            ConfigOptions.key("inference.max-failure-bytes")
                    .intType()
                    .noDefaultValue()
                    .withDescription(
                            "Largest encoded failure the sink takes; a failure that would be larger keeps"
                                    + " only the first bytes of its request (truncated = true, payloadSize the whole)."
                                    + " Unset: no limit; the Kafka job sets the dead-letter topic's.");

    public static final ConfigOption<Integer> MAX_TENSORS =
            ConfigOptions.key("inference.max-tensors")
                    .intType()
                    .defaultValue(64)
                    .withDescription("Most tensors one request may carry.");

    public static final ConfigOption<Long> MAX_TENSOR_ELEMENTS =
            ConfigOptions.key("inference.max-tensor-elements")
                    .longType()
                    .defaultValue(16L << 20)
                    .withDescription("Most elements one tensor may have.");

    public static final ConfigOption<Boolean> REJECT_NON_FINITE =
            ConfigOptions.key("inference.reject-non-finite")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Send requests with NaN or Inf in a floating-point input to the dead-letter"
                                    + " topic (NON_FINITE_INPUT) instead of running them. Off by default, as in Triton:"
                                    + " the check reads every input value once (about 0.1 ms for a 600 KB image).");

    public static final ConfigOption<String> UID =
            ConfigOptions.key("inference.uid")
                    .stringType()
                    .defaultValue("inference")
                    .withDescription(
                            "The async operator's uid: what a savepoint keys its state by. Give each"
                                    + " inference operator of a job its own, and never change it once a"
                                    + " savepoint exists.");

    public static final ConfigOption<String> NAME =
            ConfigOptions.key("inference.name")
                    .stringType()
                    .defaultValue("inference")
                    .withDescription(
                            "The async operator's name in Flink's web UI, logs and metric scopes.");

    public static final ConfigOption<String> TOKENIZER =
            ConfigOptions.key("inference.tokenizer")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "A HuggingFace tokenizer.json on every task manager (read from the file, never"
                                    + " downloaded): requests may then carry text, tokenized into the model's"
                                    + " input_ids, attention_mask and token_type_ids, padded to its sequence length.");

    public static final ConfigOption<Integer> MAX_TEXT_TOKENS =
            ConfigOptions.key("inference.max-text-tokens")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "0: a text with more tokens than the model's sequence length is cut there and its"
                                    + " result says truncated = true; N: a text of more than N tokens goes to the"
                                    + " dead-letter topic as TEXT_TOO_LONG.");

    public static final ConfigOption<TextSettings.Pooling> POOLING =
            ConfigOptions.key("inference.pooling")
                    .enumType(TextSettings.Pooling.class)
                    .defaultValue(TextSettings.Pooling.NONE)
                    .withDescription(
                            "none, mean or cls: results carry an embedding pooled from the answer output's hidden"
                                    + " states [batch, tokens, hidden] (mean over the attention mask, or the first"
                                    + " token) instead of raw outputs.");

    public static final ConfigOption<Boolean> NORMALIZE =
            ConfigOptions.key("inference.normalize")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription("L2-normalise the pooled embedding.");

    public static final ConfigOption<Integer> TOP_K =
            ConfigOptions.key("inference.top-k")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "K > 0: results carry the K most probable labels (softmax over the answer output's"
                                    + " logits [batch, classes], names from inference.labels) instead of raw outputs.");

    public static final ConfigOption<String> LABELS =
            ConfigOptions.key("inference.labels")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "A file on every task manager with one label per line, in the classifier's output order.");

    public static final ConfigOption<String> ANSWER_OUTPUT =
            ConfigOptions.key("inference.answer-output")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The model output that pooling or top-k reads; unset: the model's first output.");

    public static final ConfigOption<String> IMAGE_INPUT =
            ConfigOptions.key("inference.image-input")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "The model input a request's encoded image (JPEG or PNG) is decoded into: uint8"
                                    + " [batch, height, width, 3] or float32 [batch, 3, height, width]; unset: the"
                                    + " model's only input, where it has one of those shapes.");

    public static final ConfigOption<List<Float>> IMAGE_MEAN =
            ConfigOptions.key("inference.image-mean")
                    .floatType()
                    .asList()
                    .defaultValues(ImageSettings.IMAGENET_MEAN.toArray(new Float[0]))
                    .withDescription(
                            "R, G, B means subtracted from an image's pixels (scaled to 0..1) for a float32"
                                    + " image input; ImageNet's by default.");

    public static final ConfigOption<List<Float>> IMAGE_STD =
            ConfigOptions.key("inference.image-std")
                    .floatType()
                    .asList()
                    .defaultValues(ImageSettings.IMAGENET_STD.toArray(new Float[0]))
                    .withDescription(
                            "R, G, B standard deviations an image's pixels are divided by after the mean, for a"
                                    + " float32 image input; ImageNet's by default.");

    public static final ConfigOption<Long> MAX_IMAGE_PIXELS =
            ConfigOptions.key("inference.max-image-pixels")
                    .longType()
                    .defaultValue(ImageSettings.DEFAULT_MAX_PIXELS)
                    .withDescription(
                            "An image whose header declares more pixels (width x height) goes to the"
                                    + " dead-letter topic as IMAGE_TOO_LARGE, refused before it is decoded.");

    /** {@link #SEQUENCE_LENGTHS}'s value as lengths; an error names the option. */
    static List<Integer> sequenceLengths(String text) {
        try {
            return BatchBuckets.parseLengths(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(SEQUENCE_LENGTHS.key() + ": " + e.getMessage(), e);
        }
    }

    /** {@link #MODEL_VERSION}'s value as a policy; an error names the option. */
    static ServingPolicy servingPolicy(String version) {
        try {
            return ServingPolicy.ofVersion(version);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(MODEL_VERSION.key() + ": " + e.getMessage(), e);
        }
    }

    /** Every option above, in the order the documentation lists them. */
    public static final List<ConfigOption<?>> ALL =
            List.of(
                    MODEL,
                    MODEL_REPOSITORY,
                    MODEL_VERSION,
                    REPOSITORY_POLL_INTERVAL,
                    BACKEND,
                    DEVICE,
                    MAX_BATCH_SIZE,
                    SEQUENCE_LENGTHS,
                    MAX_DELAY,
                    BUFFERS_IN_FLIGHT,
                    CAPACITY,
                    TIMEOUT,
                    ORDERED,
                    MAX_REQUEST_BYTES,
                    MAX_RESULT_BYTES,
                    MAX_FAILURE_BYTES,
                    MAX_TENSORS,
                    MAX_TENSOR_ELEMENTS,
                    REJECT_NON_FINITE,
                    TOKENIZER,
                    MAX_TEXT_TOKENS,
                    POOLING,
                    NORMALIZE,
                    TOP_K,
                    LABELS,
                    ANSWER_OUTPUT,
                    IMAGE_INPUT,
                    IMAGE_MEAN,
                    IMAGE_STD,
                    MAX_IMAGE_PIXELS,
                    UID,
                    NAME);
}
