package io.flinktrt.tools.cli;

import io.flinktrt.testing.TestModels;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs {@code bin/flink-tensorrt sql -f examples/sql/<script>} in this JVM, as a user runs it. */
final class ExampleScripts {

    /** What the command returned and printed (also echoed to this test's output). */
    record Run(int exit, String printed) {}

    private ExampleScripts() {}

    /** The repository root: what {@code ${home}} is in the scripts. */
    static Path home() {
        return TestModels.path(TestModels.TWO_IN_TWO_OUT).getParent().getParent();
    }

    static Run sql(String script) {
        Path home = home();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        String previousHome = System.getProperty("flinktrt.home");
        System.setProperty("flinktrt.home", home.toString());
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit =
                    Cli.execute(
                            "sql", "-f", home.resolve("examples/sql").resolve(script).toString());
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
        return new Run(exit, printed);
    }
}
