package io.flinktrt.backend.onnxruntime;

import io.flinktrt.backend.BackendOptions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

import java.util.List;
import java.util.Map;

/** Settings of the ONNX Runtime backend ({@code onnxruntime.*}), as Flink {@link ConfigOption}s. */
@PublicEvolving
public final class OnnxRuntimeOptions {

    private OnnxRuntimeOptions() {}

    public static final ConfigOption<Integer> INTRA_OP_THREADS =
            ConfigOptions.key("onnxruntime.intra-op-threads")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Threads ONNX Runtime may use inside one batch; 0 lets it decide (one per core).");

    /** Every ONNX Runtime option, in the order the help lists them. */
    public static final List<ConfigOption<?>> ALL = List.of(INTRA_OP_THREADS);

    /**
     * Checks every {@code onnxruntime.*} setting of {@code options} and returns them typed.
     *
     * @throws IllegalArgumentException naming the setting, what is wrong and what to give instead
     */
    public static Configuration sanityCheck(Map<String, String> options) {
        Configuration config = BackendOptions.parse(options, "onnxruntime.", ALL);
        int threads = config.get(INTRA_OP_THREADS);
        if (threads < 0) {
            throw new IllegalArgumentException(
                    INTRA_OP_THREADS.key()
                            + " must be 0 (ONNX Runtime decides) or a"
                            + " number of threads, was "
                            + threads
                            + ".");
        }
        return config;
    }
}
