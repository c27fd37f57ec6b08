package io.flinktrt.jobs.cli;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.Backends;
import io.flinktrt.operator.InferenceOptions;
import io.flinktrt.repository.ModelRepository;
import io.flinktrt.repository.ServingPolicy;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Command-line flags of the inference operator; each maps to an {@link InferenceOptions} key. */
@Internal
public final class InferenceCliOptions {

    @Option(names = "--model", description = "ONNX file, or TensorRT plan from build-engine.")
    public String model;

    @Option(
            names = "--model-repository",
            paramLabel = "DIR",
            description =
                    "A model repository, <DIR>/<name>/<version>/model.onnx or model.plan (Triton's layout),"
                            + " instead of --model: new versions take over at checkpoints (docs/operations.md).")
    public String modelRepository;

    @Option(names = "--model-name", description = "The model's name in --model-repository.")
    public String modelName;

    @Option(
            names = "--model-version",
            description =
                    "latest, or a version of --model-name to pin; the model's serving.properties overrides"
                            + " it while the job runs (default: ${DEFAULT-VALUE}).")
    public String modelVersion;

    @Option(
            names = "--repository-poll-ms",
            description =
                    "How often each subtask looks at --model-repository for new versions; 0 = never"
                            + " (default: ${DEFAULT-VALUE}).")
    public long repositoryPollMs;

    @Option(
            names = "--backend",
            description = "tensorrt, onnxruntime or auto (default: ${DEFAULT-VALUE}).")
    public String backend;

    @Option(
            names = "--device",
            description = "GPU index when Flink has no gpu resource (default: ${DEFAULT-VALUE}).")
    public int device;

    @Option(
            names = "--max-batch",
            description =
                    "Most requests per batch; 0 = the model's limit (default: ${DEFAULT-VALUE}).")
    public int maxBatch;

    @Option(
            names = "--max-delay-ms",
            description = "Longest wait of a batch's oldest request (default: ${DEFAULT-VALUE}).")
    public long maxDelayMs;

    @Option(
            names = "--buffers-in-flight",
            description = "Batches per slot in flight at once (default: ${DEFAULT-VALUE}).")
    public int buffersInFlight;

    @Option(
            names = "--capacity",
            description =
                    "Requests in flight in the async operator; 0 = automatic (default: ${DEFAULT-VALUE}).")
    public int capacity;

    @Option(
            names = "--timeout-ms",
            description =
                    "Request timeout; late requests go to the dead-letter topic (default: ${DEFAULT-VALUE}).")
    public long timeoutMs;

    @Option(names = "--ordered", description = "Emit results in input order.")
    public boolean ordered;

    @Option(
            names = "--reject-non-finite",
            description =
                    "Send requests with NaN/Inf inputs to the dead-letter topic (default: let them through).")
    public boolean rejectNonFinite;

    @Option(
            names = "--tokenizer",
            paramLabel = "FILE",
            description =
                    "A HuggingFace tokenizer.json on every task manager: requests may carry text, tokenized"
                            + " into the model's input_ids, attention_mask and token_type_ids.")
    public String tokenizer;

    @Option(
            names = "--sequence-lengths",
            paramLabel = "N,N,...",
            description =
                    "Text models with a dynamic sequence dimension: the lengths a batch runs at, e.g."
                            + " 16,32,64,128; requests wait with those of their length.")
    public String sequenceLengths;

    @Option(
            names = "--max-text-tokens",
            paramLabel = "N",
            description =
                    "Refuse texts of more than N tokens (TEXT_TOO_LONG); 0 = cut them at the model's"
                            + " sequence length, with truncated = true in the result (default: ${DEFAULT-VALUE}).")
    public int maxTextTokens;

    @Option(
            names = "--pooling",
            description =
                    "none, mean or cls: results carry an embedding pooled from the model's hidden states"
                            + " instead of raw outputs (default: ${DEFAULT-VALUE}).")
    public String pooling;

    @Option(names = "--normalize", description = "L2-normalise the pooled embedding.")
    public boolean normalize;

    @Option(
            names = "--top-k",
            paramLabel = "K",
            description =
                    "Results carry the K most probable labels (softmax over the logits, names from --labels)"
                            + " instead of raw outputs; 0 = off (default: ${DEFAULT-VALUE}).")
    public int topK;

    @Option(
            names = "--labels",
            paramLabel = "FILE",
            description = "One label per line, in the classifier's output order (with --top-k).")
    public String labels;

    @Option(
            names = "--answer-output",
            paramLabel = "NAME",
            description = "The output --pooling or --top-k reads (default: the model's first).")
    public String answerOutput;

    @Option(
            names = "--image-input",
            paramLabel = "NAME",
            description =
                    "The model input a request's JPEG or PNG is decoded into (default: the model's only"
                            + " input, where it is uint8 [H,W,3] or float32 [3,H,W]).")
    public String imageInput;

    @Option(
            names = "--image-mean",
            paramLabel = "R,G,B",
            description =
                    "Means subtracted from pixels scaled to 0..1, for a float32 image input (default:"
                            + " ${DEFAULT-VALUE}).")
    public String imageMean;

    @Option(
            names = "--image-std",
            paramLabel = "R,G,B",
            description =
                    "Standard deviations pixels are divided by, for a float32 image input (default:"
                            + " ${DEFAULT-VALUE}).")
    public String imageStd;

    @Option(
            names = "--max-image-pixels",
            paramLabel = "N",
            description =
                    "Refuse images whose header declares more pixels (IMAGE_TOO_LARGE), before decoding"
                            + " (default: ${DEFAULT-VALUE}).")
    public long maxImagePixels;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description =
                    "Any other option, e.g. --set inference.max-request-bytes=1048576; the backend options are listed below.")
    public List<String> settings = new ArrayList<>();

    /**
     * These flags as Flink configuration ({@code inference.*} keys). A {@code --set} of the same
     * key has the last word.
     */
    public Configuration toConfiguration() {
        Configuration config = new Configuration();
        if (modelRepository != null) {
            if (model != null || modelName == null) {
                throw new IllegalArgumentException(
                        "--model-repository takes --model-name (the model's directory there), not --model.");
            }
            config.set(InferenceOptions.MODEL_REPOSITORY, modelRepository);
            config.set(InferenceOptions.MODEL, modelName);
        } else if (modelName != null) {
            throw new IllegalArgumentException(
                    "--model-name names a model of --model-repository; give that too.");
        } else {
            config.set(InferenceOptions.MODEL, model);
        }
        config.set(InferenceOptions.MODEL_VERSION, modelVersion);
        config.set(InferenceOptions.REPOSITORY_POLL_INTERVAL, Duration.ofMillis(repositoryPollMs));
        config.set(InferenceOptions.BACKEND, backend);
        config.set(InferenceOptions.DEVICE, device);
        config.set(InferenceOptions.MAX_BATCH_SIZE, maxBatch);
        config.set(InferenceOptions.MAX_DELAY, Duration.ofMillis(maxDelayMs));
        config.set(InferenceOptions.BUFFERS_IN_FLIGHT, buffersInFlight);
        config.set(InferenceOptions.CAPACITY, capacity);
        config.set(InferenceOptions.TIMEOUT, Duration.ofMillis(timeoutMs));
        config.set(InferenceOptions.ORDERED, ordered);
        config.set(InferenceOptions.REJECT_NON_FINITE, rejectNonFinite);
        if (tokenizer != null) {
            config.set(InferenceOptions.TOKENIZER, tokenizer);
        }
        config.set(InferenceOptions.MAX_TEXT_TOKENS, maxTextTokens);
        if (sequenceLengths != null) {
            config.set(InferenceOptions.SEQUENCE_LENGTHS, sequenceLengths);
        }
        config.setString(InferenceOptions.POOLING.key(), pooling);
        config.set(InferenceOptions.NORMALIZE, normalize);
        config.set(InferenceOptions.TOP_K, topK);
        if (labels != null) {
            config.set(InferenceOptions.LABELS, labels);
        }
        if (answerOutput != null) {
            config.set(InferenceOptions.ANSWER_OUTPUT, answerOutput);
        }
        if (imageInput != null) {
            config.set(InferenceOptions.IMAGE_INPUT, imageInput);
        }
        if (imageMean != null) {
            config.set(InferenceOptions.IMAGE_MEAN, floats("--image-mean", imageMean));
        }
        if (imageStd != null) {
            config.set(InferenceOptions.IMAGE_STD, floats("--image-std", imageStd));
        }
        config.set(InferenceOptions.MAX_IMAGE_PIXELS, maxImagePixels);
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set takes KEY=VALUE, got '" + setting + "'");
            }
            config.setString(setting.substring(0, eq).trim(), setting.substring(eq + 1).trim());
        }
        return config;
    }

    /**
     * The model file the job starts with and the backend chosen for it: --model, or the file of the
     * version of --model-name serving now that a backend here opens.
     */
    public Backends.FileSelection startingModel() throws IOException, BackendException {
        if (modelRepository == null) {
            return new Backends.FileSelection(
                    Path.of(model), Backends.select(backend, Path.of(model)));
        }
        List<Path> files =
                new ModelRepository(Path.of(modelRepository))
                        .resolve(modelName, ServingPolicy.ofVersion(modelVersion))
                        .primary()
                        .files(backend);
        return Backends.selectFirst(backend, files);
    }

    private static List<Float> floats(String flag, String values) {
        try {
            return Arrays.stream(values.split(",")).map(v -> Float.parseFloat(v.trim())).toList();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " takes numbers R,G,B, got '" + values + "'");
        }
    }
}
