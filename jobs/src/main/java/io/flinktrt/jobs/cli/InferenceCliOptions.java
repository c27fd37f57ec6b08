package io.flinktrt.jobs.cli;

import io.flinktrt.backend.Backends;
import io.flinktrt.operator.InferenceOptions;

import org.apache.flink.configuration.Configuration;

import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Command-line flags of the inference operator; each maps to an {@link InferenceOptions} key. */
public final class InferenceCliOptions {

    @Option(names = "--model", description = "ONNX file, or TensorRT plan from build-engine.")
    String model;

    @Option(names = "--backend", defaultValue = Backends.AUTO,
            description = "tensorrt, onnxruntime or auto (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--device", description = "GPU index when Flink has no gpu resource (default 0).")
    Integer device;

    @Option(names = "--max-batch", description = "Most requests per batch; 0 = the model's limit (default).")
    Integer maxBatch;

    @Option(names = "--max-delay-ms", description = "Longest wait of a batch's oldest request (default 5).")
    Long maxDelayMs;

    @Option(names = "--buffers-in-flight", description = "Batches per slot in flight at once (default 3).")
    Integer buffersInFlight;

    @Option(names = "--capacity", description = "Requests in flight in the async operator (default: automatic).")
    Integer capacity;

    @Option(names = "--timeout-ms", description = "Request timeout; late requests go to the dead-letter topic (default 30000).")
    Long timeoutMs;

    @Option(names = "--ordered", description = "Emit results in input order.")
    boolean ordered;

    @Option(names = "--reject-non-finite",
            description = "Send requests with NaN/Inf inputs to the dead-letter topic (default: let them through).")
    boolean rejectNonFinite;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Any other option, e.g. --set inference.max-request-bytes=1048576 or --set tensorrt.allow-host-code=true.")
    List<String> settings = new ArrayList<>();

    /** These flags as Flink configuration ({@code inference.*} keys). */
    Configuration toConfiguration() {
        Configuration config = new Configuration();
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set takes KEY=VALUE, got '" + setting + "'");
            }
            config.setString(setting.substring(0, eq).trim(), setting.substring(eq + 1).trim());
        }
        config.set(InferenceOptions.MODEL, model);
        config.set(InferenceOptions.BACKEND, backend);
        if (device != null) {
            config.set(InferenceOptions.DEVICE, device);
        }
        if (maxBatch != null) {
            config.set(InferenceOptions.MAX_BATCH_SIZE, maxBatch);
        }
        if (maxDelayMs != null) {
            config.set(InferenceOptions.MAX_DELAY, Duration.ofMillis(maxDelayMs));
        }
        if (buffersInFlight != null) {
            config.set(InferenceOptions.BUFFERS_IN_FLIGHT, buffersInFlight);
        }
        if (capacity != null) {
            config.set(InferenceOptions.CAPACITY, capacity);
        }
        if (timeoutMs != null) {
            config.set(InferenceOptions.TIMEOUT, Duration.ofMillis(timeoutMs));
        }
        if (ordered) {
            config.set(InferenceOptions.ORDERED, true);
        }
        if (rejectNonFinite) {
            config.set(InferenceOptions.REJECT_NON_FINITE, true);
        }
        return config;
    }

    /** Settings under {@code tensorrt.} or {@code onnxruntime.}: passed to the backend as they are. */
    java.util.Map<String, String> backendOptions() {
        java.util.Map<String, String> options = new java.util.HashMap<>();
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            String key = setting.substring(0, eq).trim();
            if (key.startsWith("tensorrt.") || key.startsWith("onnxruntime.")) {
                options.put(key, setting.substring(eq + 1).trim());
            }
        }
        return options;
    }
}
