package io.flinktrt.jobs.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** Every command answers --help with its usage, through the launcher's own command tree. */
class CliHelpTest {

    @ParameterizedTest
    @CsvSource({
            "produce, --input, --rate",
            "consume, --output, --jsonl",
            "local,   --model, --requests",
            "run,     --model, --job-name"})
    void helpPrintsTheCommandsUsage(String command, String option, String otherOption) {
        StringWriter out = new StringWriter();
        int exit = new CommandLine(new Cli()).setOut(new PrintWriter(out)).execute(command, "--help");

        assertThat(exit).isZero();
        assertThat(out.toString())
                .startsWith("Usage: flink-tensorrt " + command)
                .contains(option, otherOption, "--bootstrap-servers", "--kafka-property");
    }
}
