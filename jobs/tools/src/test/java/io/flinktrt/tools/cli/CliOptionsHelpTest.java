package io.flinktrt.tools.cli;

import io.flinktrt.backend.onnxruntime.OnnxRuntimeOptions;
import io.flinktrt.backend.tensorrt.TensorRtOptions;
import io.flinktrt.jobs.cli.InferenceCliOptions;
import io.flinktrt.jobs.cli.RunCommand;
import io.flinktrt.operator.InferenceOptions;

import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's flags take their defaults from the ConfigOptions, and the help lists the backend
 * options.
 */
class CliOptionsHelpTest {

    @ParameterizedTest
    @ValueSource(strings = {"run", "local", "bench"})
    void helpShowsTheOptionsDefaultsAndEveryBackendOption(String command) {
        String help = help(command);

        assertThat(help)
                .containsPattern(
                        "max-delay-ms=<maxDelayMs> [^-]*\\(default: "
                                + InferenceOptions.MAX_DELAY.defaultValue().toMillis()
                                + "\\)")
                .contains("(default: " + InferenceOptions.BUFFERS_IN_FLIGHT.defaultValue() + ")");
        TensorRtOptions.ALL.forEach(option -> assertThat(help).contains(option.key()));
        OnnxRuntimeOptions.ALL.forEach(option -> assertThat(help).contains(option.key()));
        assertThat(help)
                .contains(
                        TensorRtOptions.CONTEXTS.key()
                                + " (default: "
                                + TensorRtOptions.CONTEXTS.defaultValue()
                                + ")");
    }

    @Test
    void flagsLeftOutGiveTheOptionsDefaults() {
        Configuration config = parse("--model", "m.onnx").toConfiguration();

        assertThat(config.get(InferenceOptions.MAX_DELAY))
                .isEqualTo(InferenceOptions.MAX_DELAY.defaultValue());
        assertThat(config.get(InferenceOptions.TIMEOUT))
                .isEqualTo(InferenceOptions.TIMEOUT.defaultValue());
        assertThat(config.get(InferenceOptions.BACKEND))
                .isEqualTo(InferenceOptions.BACKEND.defaultValue());
        assertThat(config.get(InferenceOptions.CAPACITY))
                .isEqualTo(InferenceOptions.CAPACITY.defaultValue());
    }

    @Test
    void flagsAndSetsReachTheConfiguration() {
        InferenceCliOptions options =
                parse(
                        "--model",
                        "m.onnx",
                        "--max-delay-ms",
                        "9",
                        "--ordered",
                        "--set",
                        "inference.max-request-bytes=1024",
                        "--set",
                        "tensorrt.contexts=3");
        Configuration config = options.toConfiguration();

        assertThat(config.get(InferenceOptions.MAX_DELAY)).isEqualTo(Duration.ofMillis(9));
        assertThat(config.get(InferenceOptions.ORDERED)).isTrue();
        assertThat(config.get(InferenceOptions.MAX_REQUEST_BYTES)).isEqualTo(1024);
        assertThat(config.toMap()).containsEntry(TensorRtOptions.CONTEXTS.key(), "3");
    }

    private static String help(String command) {
        StringWriter out = new StringWriter();
        int exit =
                new CommandLine(new Cli()).setOut(new PrintWriter(out)).execute(command, "--help");
        assertThat(exit).isZero();
        return out.toString().replaceAll("\\s+", " "); // picocli wraps long lines
    }

    private static InferenceCliOptions parse(String... args) {
        RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs(args);
        return run.inference;
    }
}
