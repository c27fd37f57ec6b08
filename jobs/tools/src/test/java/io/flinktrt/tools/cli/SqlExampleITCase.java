package io.flinktrt.tools.cli;

import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's {@code bin/flink-tensorrt sql -f examples/sql/ml-predict.sql}, as a user runs it.
 */
@Timeout(300)
class SqlExampleITCase {

    @Test
    void theExampleScriptPredictsAndShowsABadRowWithItsReason() {
        Path home = TestModels.path(TestModels.TWO_IN_TWO_OUT).getParent().getParent();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        String previousHome = System.getProperty("flinktrt.home");
        System.setProperty("flinktrt.home", home.toString());
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = Cli.execute("sql", "-f", home.resolve("examples/sql/ml-predict.sql").toString());
        } finally {
            System.setOut(stdout);
            if (previousHome == null) {
                System.clearProperty("flinktrt.home");
            } else {
                System.setProperty("flinktrt.home", previousHome);
            }
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        assertThat(exit).isZero();
        assertThat(printed)
                .contains("id | distance | mix | error")
                .contains("r1 | 7.75 | [3.0551722, 1.3162783, 2.6179793, 1.6280358] | null")
                .contains(
                        "r3 | null | null | INPUT column 'b' has 1 elements; tensor 'b' (b:FLOAT32[N, 8]) takes 8 per row")
                .contains("(5 rows)");
    }
}
