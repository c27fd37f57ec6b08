package io.flinktrt.tools.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SqlCommandTest {

    @Test
    void helpNamesTheScriptItsVariablesAndKafka() {
        StringWriter out = new StringWriter();
        int exit = new CommandLine(new Cli()).setOut(new PrintWriter(out)).execute("sql", "--help");

        assertThat(exit).isZero();
        assertThat(out.toString())
                .startsWith("Usage: flink-tensorrt sql")
                .contains(
                        "--file",
                        "--var",
                        "--bootstrap-servers",
                        "--keep-running",
                        "${bootstrap_servers}",
                        "examples/sql/ml-predict.sql");
    }

    @Test
    void aScriptWithoutItsFileIsAUsageError() {
        StringWriter err = new StringWriter();
        assertThat(new CommandLine(new Cli()).setErr(new PrintWriter(err)).execute("sql"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--file=SCRIPT.sql'");
    }

    @Test
    void theEmbeddedKafkaGetsEveryTopicTheScriptNames() {
        assertThat(
                        SqlCommand.topics(
                                List.of(
                                        "CREATE TABLE a (x INT) WITH ('connector' = 'kafka', 'topic' = 'in')",
                                        "CREATE TABLE b (x INT) WITH ('topic'='out', 'format' = 'json')",
                                        "CREATE TABLE c LIKE a",
                                        "CREATE TABLE d (x INT) WITH ('topic' = 'in')")))
                .containsExactly("in", "out");
    }
}
