package io.flinktrt.operator;

import io.flinktrt.backend.Backends;
import io.flinktrt.image.ImageSettings;
import io.flinktrt.repository.ModelRepository;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.text.TextSettings;
import io.flinktrt.wire.AvroRequestTranslator;
import io.flinktrt.wire.Outcomes;
import io.flinktrt.wire.RequestLimits;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkState;

/**
 * Builds an {@link InferenceFunction}: {@code
 * InferenceFunction.builder().setModel(path)...build()}.
 */
@PublicEvolving
public final class InferenceFunctionBuilder {

    private final Configuration options = new Configuration();
    private final Map<String, String> backendOptions = new HashMap<>();
    private boolean checkModelExists = true;
    private int defaultMaxRequestBytes = InferenceOptions.MAX_REQUEST_BYTES.defaultValue();

    InferenceFunctionBuilder() {}

    /**
     * Takes every {@code inference.*} option set in {@code config}, and every backend setting
     * ({@code tensorrt.*}, {@code onnxruntime.*}: a backend's name and a dot).
     */
    public InferenceFunctionBuilder fromConfiguration(ReadableConfig config) {
        InferenceOptions.ALL.forEach(option -> copy(config, option));
        backendOptions.putAll(Backends.backendSettings(config.toMap()));
        return this;
    }

    private <T> void copy(ReadableConfig from, ConfigOption<T> option) {
        from.getOptional(option).ifPresent(value -> options.set(option, value));
    }

    public InferenceFunctionBuilder setModel(String path) {
        options.set(InferenceOptions.MODEL, path);
        return this;
    }

    /**
     * Serves the model {@code name} of the repository at {@code directory} ({@code
     * <directory>/<name>/<version>/model.onnx} or {@code model.plan}): the latest version unless
     * {@link #setModelVersion} pins one, and each new version from the next checkpoint on.
     */
    public InferenceFunctionBuilder setModelRepository(String directory, String name) {
        options.set(InferenceOptions.MODEL_REPOSITORY, directory);
        options.set(InferenceOptions.MODEL, name);
        return this;
    }

    /** Pins a repository model's version (until its serving.properties says otherwise). */
    public InferenceFunctionBuilder setModelVersion(long version) {
        options.set(InferenceOptions.MODEL_VERSION, Long.toString(version));
        return this;
    }

    /** How often the repository is looked at for new versions; zero: never. */
    public InferenceFunctionBuilder setRepositoryPollInterval(Duration interval) {
        options.set(InferenceOptions.REPOSITORY_POLL_INTERVAL, interval);
        return this;
    }

    public InferenceFunctionBuilder setBackend(String backend) {
        options.set(InferenceOptions.BACKEND, backend);
        return this;
    }

    public InferenceFunctionBuilder setDevice(int device) {
        options.set(InferenceOptions.DEVICE, device);
        return this;
    }

    public InferenceFunctionBuilder setMaxBatchSize(int maxBatchSize) {
        options.set(InferenceOptions.MAX_BATCH_SIZE, maxBatchSize);
        return this;
    }

    /**
     * For a model whose inputs vary in length (text): the lengths a batch runs at, ascending (see
     * {@link InferenceOptions#SEQUENCE_LENGTHS}).
     */
    public InferenceFunctionBuilder setSequenceLengths(List<Integer> lengths) {
        options.set(
                InferenceOptions.SEQUENCE_LENGTHS,
                lengths.stream().map(String::valueOf).collect(Collectors.joining(",")));
        return this;
    }

    public InferenceFunctionBuilder setMaxDelay(Duration maxDelay) {
        options.set(InferenceOptions.MAX_DELAY, maxDelay);
        return this;
    }

    public InferenceFunctionBuilder setBuffersInFlight(int buffers) {
        options.set(InferenceOptions.BUFFERS_IN_FLIGHT, buffers);
        return this;
    }

    public InferenceFunctionBuilder setCapacity(int capacity) {
        options.set(InferenceOptions.CAPACITY, capacity);
        return this;
    }

    public InferenceFunctionBuilder setTimeout(Duration timeout) {
        options.set(InferenceOptions.TIMEOUT, timeout);
        return this;
    }

    public InferenceFunctionBuilder setOrdered(boolean ordered) {
        options.set(InferenceOptions.ORDERED, ordered);
        return this;
    }

    public InferenceFunctionBuilder setMaxRequestBytes(int bytes) {
        options.set(InferenceOptions.MAX_REQUEST_BYTES, bytes);
        return this;
    }

    /**
     * The request size limit unless {@link #setMaxRequestBytes} or the option set one: what the
     * source can carry.
     */
    public InferenceFunctionBuilder setDefaultMaxRequestBytes(int bytes) {
        defaultMaxRequestBytes = bytes;
        return this;
    }

    /** The largest encoded result the sink takes (the Kafka job sets the output topic's). */
    public InferenceFunctionBuilder setMaxResultBytes(int bytes) {
        options.set(InferenceOptions.MAX_RESULT_BYTES, bytes);
        return this;
    }

    /** The largest encoded failure the sink takes (the Kafka job sets the dead-letter topic's). */
    public InferenceFunctionBuilder setMaxFailureBytes(int bytes) {
        options.set(InferenceOptions.MAX_FAILURE_BYTES, bytes);
        return this;
    }

    /**
     * The async operator's uid (default {@code inference}, as before this option existed): give
     * each inference operator of a job its own, and keep it across upgrades so savepoints restore.
     */
    public InferenceFunctionBuilder setUid(String uid) {
        options.set(InferenceOptions.UID, uid);
        return this;
    }

    /**
     * The async operator's name in the web UI, logs and metric scopes (default {@code inference}).
     */
    public InferenceFunctionBuilder setName(String name) {
        options.set(InferenceOptions.NAME, name);
        return this;
    }

    public InferenceFunctionBuilder setRejectNonFinite(boolean reject) {
        options.set(InferenceOptions.REJECT_NON_FINITE, reject);
        return this;
    }

    /**
     * Requests may carry text: tokenized with this {@code tokenizer.json} (a path on every task
     * manager) into the model's inputs.
     */
    public InferenceFunctionBuilder setTokenizer(String tokenizerJson) {
        options.set(InferenceOptions.TOKENIZER, tokenizerJson);
        return this;
    }

    /** Refuse texts of more than {@code tokens} tokens (TEXT_TOO_LONG) instead of cutting them. */
    public InferenceFunctionBuilder setMaxTextTokens(int tokens) {
        options.set(InferenceOptions.MAX_TEXT_TOKENS, tokens);
        return this;
    }

    /** Results carry an embedding pooled from the answer output, L2-normalised if asked. */
    public InferenceFunctionBuilder setPooling(TextSettings.Pooling pooling, boolean normalize) {
        options.set(InferenceOptions.POOLING, pooling);
        options.set(InferenceOptions.NORMALIZE, normalize);
        return this;
    }

    /** Results carry the {@code k} most probable labels, named by {@code labelsFile}'s lines. */
    public InferenceFunctionBuilder setTopK(int k, String labelsFile) {
        options.set(InferenceOptions.TOP_K, k);
        options.set(InferenceOptions.LABELS, labelsFile);
        return this;
    }

    /** The output pooling or top-k reads (default: the model's first). */
    public InferenceFunctionBuilder setAnswerOutput(String output) {
        options.set(InferenceOptions.ANSWER_OUTPUT, output);
        return this;
    }

    /** The text and answer settings as configured; what {@link #build()} gives its translator. */
    public TextSettings textSettings() {
        return new TextSettings(
                options.getOptional(InferenceOptions.TOKENIZER).orElse(null),
                options.get(InferenceOptions.MAX_TEXT_TOKENS),
                options.get(InferenceOptions.POOLING),
                options.get(InferenceOptions.NORMALIZE),
                options.get(InferenceOptions.TOP_K),
                options.getOptional(InferenceOptions.LABELS).orElse(null),
                options.getOptional(InferenceOptions.ANSWER_OUTPUT).orElse(null));
    }

    /**
     * Requests may carry an encoded image for {@code input} (null: the model's only input),
     * normalised with {@code mean} and {@code std} (R, G, B) for a float input.
     */
    public InferenceFunctionBuilder setImageInput(String input, List<Float> mean, List<Float> std) {
        if (input != null) {
            options.set(InferenceOptions.IMAGE_INPUT, input);
        }
        options.set(InferenceOptions.IMAGE_MEAN, mean);
        options.set(InferenceOptions.IMAGE_STD, std);
        return this;
    }

    /** The image settings as configured; what {@link #build()} gives its translator. */
    public ImageSettings imageSettings() {
        return new ImageSettings(
                options.getOptional(InferenceOptions.IMAGE_INPUT).orElse(null),
                options.get(InferenceOptions.IMAGE_MEAN),
                options.get(InferenceOptions.IMAGE_STD),
                options.get(InferenceOptions.MAX_IMAGE_PIXELS));
    }

    /** A backend-specific setting, e.g. {@code tensorrt.allow-host-code=true}. */
    public InferenceFunctionBuilder setBackendOption(String key, String value) {
        backendOptions.put(key, value);
        return this;
    }

    /**
     * Whether {@link #build} checks that the model file exists here. Turn it off when the job is
     * built on a client and the model exists only on the task managers.
     */
    public InferenceFunctionBuilder setCheckModelExists(boolean check) {
        this.checkModelExists = check;
        return this;
    }

    /**
     * The function on our Kafka wire format: serialized {@code InferenceRequest}s in, outcomes out.
     */
    public InferenceFunction<RequestRecord, InferenceOutcome> build() {
        return build(new AvroRequestTranslator(limits(), textSettings(), imageSettings()));
    }

    private RequestLimits limits() {
        return new RequestLimits(
                options.getOptional(InferenceOptions.MAX_REQUEST_BYTES)
                        .orElse(defaultMaxRequestBytes),
                options.get(InferenceOptions.MAX_TENSORS),
                options.get(InferenceOptions.MAX_TENSOR_ELEMENTS),
                options.get(InferenceOptions.REJECT_NON_FINITE),
                options.getOptional(InferenceOptions.MAX_RESULT_BYTES)
                        .orElse(RequestLimits.UNLIMITED),
                options.getOptional(InferenceOptions.MAX_FAILURE_BYTES)
                        .orElse(RequestLimits.UNLIMITED));
    }

    private List<Integer> sequenceLengths() {
        return options.getOptional(InferenceOptions.SEQUENCE_LENGTHS)
                .map(InferenceOptions::sequenceLengths)
                .orElse(List.of());
    }

    /** The function on the user's own types, which {@code translator} turns into rows and back. */
    public <IN, OUT> InferenceFunction<IN, OUT> build(InferenceTranslator<IN, ?, OUT> translator) {
        sanityCheck();
        return new InferenceFunction<>(
                new InferenceConfig(
                        options.get(InferenceOptions.BACKEND),
                        options.get(InferenceOptions.MODEL),
                        options.getOptional(InferenceOptions.MODEL_REPOSITORY).orElse(null),
                        InferenceOptions.servingPolicy(options.get(InferenceOptions.MODEL_VERSION)),
                        options.get(InferenceOptions.REPOSITORY_POLL_INTERVAL),
                        options.get(InferenceOptions.DEVICE),
                        options.get(InferenceOptions.MAX_BATCH_SIZE),
                        sequenceLengths(),
                        options.get(InferenceOptions.MAX_DELAY),
                        options.get(InferenceOptions.BUFFERS_IN_FLIGHT),
                        options.get(InferenceOptions.CAPACITY),
                        options.get(InferenceOptions.TIMEOUT),
                        options.get(InferenceOptions.ORDERED),
                        Map.copyOf(backendOptions),
                        options.get(InferenceOptions.UID),
                        options.get(InferenceOptions.NAME)),
                translator);
    }

    private void checkTextSettings(TextSettings text) {
        checkArgument(
                text.maxTextTokens() >= 0 && text.topK() >= 0,
                "%s and %s must not be negative.",
                InferenceOptions.MAX_TEXT_TOKENS.key(),
                InferenceOptions.TOP_K.key());
        checkArgument(
                text.topK() == 0 || text.labelsFile() != null,
                "%s needs %s (one label per line).",
                InferenceOptions.TOP_K.key(),
                InferenceOptions.LABELS.key());
        checkArgument(
                text.pooling() == TextSettings.Pooling.NONE || text.topK() == 0,
                "%s and %s exclude each other: an output is either hidden states or logits.",
                InferenceOptions.POOLING.key(),
                InferenceOptions.TOP_K.key());
        for (String file : new String[] {text.tokenizerFile(), text.labelsFile()}) {
            checkState(
                    !checkModelExists || file == null || Files.isRegularFile(Path.of(file)),
                    "File %s does not exist.",
                    file);
        }
    }

    private void sanityCheck() {
        checkState(
                options.getOptional(InferenceOptions.MODEL).isPresent(),
                "No model is set: call setModel(path) or set %s.",
                InferenceOptions.MODEL.key());
        String model = options.get(InferenceOptions.MODEL);
        Optional<String> repository = options.getOptional(InferenceOptions.MODEL_REPOSITORY);
        if (repository.isEmpty()) {
            checkState(
                    !checkModelExists || Files.isRegularFile(Path.of(model)),
                    "Model file %s does not exist; give the path of an ONNX file or a TensorRT plan.",
                    model);
        } else if (checkModelExists) {
            try {
                new ModelRepository(Path.of(repository.get()))
                        .resolve(
                                model,
                                InferenceOptions.servingPolicy(
                                        options.get(InferenceOptions.MODEL_VERSION)));
            } catch (IOException e) {
                throw new IllegalStateException("Model " + model + ": " + e.getMessage(), e);
            }
        }
        InferenceOptions.servingPolicy(options.get(InferenceOptions.MODEL_VERSION));
        checkArgument(
                !options.get(InferenceOptions.REPOSITORY_POLL_INTERVAL).isNegative(),
                "%s must not be negative.",
                InferenceOptions.REPOSITORY_POLL_INTERVAL.key());
        checkArgument(
                !options.get(InferenceOptions.UID).isBlank(),
                "%s must not be empty.",
                InferenceOptions.UID.key());
        String backend = options.get(InferenceOptions.BACKEND);
        checkArgument(
                Backends.AUTO.equals(backend)
                        || Backends.all().stream().anyMatch(b -> b.name().equals(backend)),
                "Backend %s is unknown; use auto, tensorrt or onnxruntime.",
                backend);
        checkArgument(
                options.get(InferenceOptions.MAX_BATCH_SIZE) >= 0,
                "%s must be 0 (the model's limit) or positive.",
                InferenceOptions.MAX_BATCH_SIZE.key());
        checkArgument(
                !options.get(InferenceOptions.MAX_DELAY).isNegative(),
                "%s must not be negative.",
                InferenceOptions.MAX_DELAY.key());
        checkArgument(
                options.get(InferenceOptions.BUFFERS_IN_FLIGHT) >= 1,
                "%s must be at least 1.",
                InferenceOptions.BUFFERS_IN_FLIGHT.key());
        checkArgument(
                options.get(InferenceOptions.CAPACITY) >= 0,
                "%s must be 0 (automatic) or positive.",
                InferenceOptions.CAPACITY.key());
        checkArgument(
                options.get(InferenceOptions.TIMEOUT)
                                .compareTo(options.get(InferenceOptions.MAX_DELAY))
                        > 0,
                "%s must be longer than %s, or every request that waits for a batch times out.",
                InferenceOptions.TIMEOUT.key(),
                InferenceOptions.MAX_DELAY.key());
        checkTextSettings(textSettings());
        RequestLimits limits = limits();
        checkArgument(
                limits.maxRequestBytes() > 0
                        && limits.maxTensors() > 0
                        && limits.maxTensorElements() > 0,
                "Request limits (%s, %s, %s) must be positive.",
                InferenceOptions.MAX_REQUEST_BYTES.key(),
                InferenceOptions.MAX_TENSORS.key(),
                InferenceOptions.MAX_TENSOR_ELEMENTS.key());
        checkArgument(
                limits.maxResultBytes() > 0,
                "%s must be positive.",
                InferenceOptions.MAX_RESULT_BYTES.key());
        checkArgument(
                limits.maxFailureBytes() >= Outcomes.MIN_FAILURE_BYTES,
                "%s is %s; a failure needs at least %s bytes (code, message, model, source) besides the request it"
                        + " carries: raise the dead-letter topic's max.message.bytes.",
                InferenceOptions.MAX_FAILURE_BYTES.key(),
                limits.maxFailureBytes(),
                Outcomes.MIN_FAILURE_BYTES);
    }
}
