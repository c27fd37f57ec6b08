package io.flinktrt.tools.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Usage through the launcher's own command tree: --help of every command, and bad flags. */
class CliUsageTest {

    @ParameterizedTest
    @CsvSource({
        "produce, --input, --rate",
        "consume, --output, --jsonl",
        "local,   --model, --requests",
        "run,     --model, --job-name"
    })
    void helpPrintsTheCommandsUsage(String command, String option, String otherOption) {
        StringWriter out = new StringWriter();
        int exit =
                new CommandLine(new Cli()).setOut(new PrintWriter(out)).execute(command, "--help");

        assertThat(exit).isZero();
        assertThat(out.toString())
                .startsWith("Usage: flink-tensorrt " + command)
                .contains(option, otherOption, "--bootstrap-servers", "--kafka-property");
    }

    static Set<String> commands() {
        return new CommandLine(new Cli()).getSubcommands().keySet();
    }

    /**
     * picocli formats descriptions with String.format: a bare '%' makes it print a WARN (on
     * System.err, through its tracer) and the raw text.
     */
    @ParameterizedTest
    @MethodSource("commands")
    void helpPrintsNoPicocliWarning(String command) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream systemErr = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(systemErr, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit =
                    new CommandLine(new Cli())
                            .setOut(new PrintWriter(out))
                            .setErr(new PrintWriter(err))
                            .execute(command, "--help");
        } finally {
            System.setErr(original);
        }

        assertThat(exit).isZero();
        assertThat(out + err.toString() + systemErr.toString(StandardCharsets.UTF_8))
                .isNotBlank()
                .doesNotContain("picocli WARN", "Could not format");
    }

    /**
     * Each is refused with exit code 2 before any Kafka client is made (the broker address is
     * unused).
     */
    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "produce --input x=a.npy;                                                   --bootstrap-servers is required",
                "produce --bootstrap-servers nowhere:9;                                     Give one of: --input/--raw files, --model, --texts",
                "produce --bootstrap-servers nowhere:9 --input x=a.npy --model m.onnx;      Give one of: --input/--raw files, --model, --texts",
                "produce --bootstrap-servers nowhere:9 --model m.onnx --texts t.txt;        Give one of: --input/--raw files, --model, --texts",
                "produce --bootstrap-servers nowhere:9 --raw x=a.bin --shape 16;            one --dtype and one --shape",
                "produce --bootstrap-servers nowhere:9 --raw x=a.bin --dtype INT8 --shape 0; --shape takes positive dimensions",
                "produce --bootstrap-servers nowhere:9 --input a.npy;                       --input takes NAME=FILE",
                "consume --count 3;                                                         --bootstrap-servers is required",
                "run --bootstrap-servers nowhere:9 --model m.onnx --parallelism 2;          goes before the jar: flink run -d -p 2"
            })
    void badFlagsAreUsageErrors(String commandLine, String message) {
        StringWriter err = new StringWriter();
        int exit =
                new CommandLine(new Cli())
                        .setErr(new PrintWriter(err))
                        .execute(commandLine.trim().split(" +"));

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains(message);
    }

    /** No GPU or no such plan: one line naming the command and why, exit code 1. */
    @Test
    void checkEngineSaysWhyAPlanCannotBeChecked() {
        StringWriter err = new StringWriter();
        int exit =
                new CommandLine(new Cli())
                        .setErr(new PrintWriter(err))
                        .execute(
                                "check-engine",
                                "--engine",
                                "missing.plan",
                                "--onnx",
                                "missing.onnx");

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).startsWith("check-engine: ");
    }
}
