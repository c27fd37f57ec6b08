package io.flinktrt.jobs.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/** A failed command says why: the whole cause chain, not only the outermost wrapper's message. */
class CommandRunnerTest {

    /** Fails the way a submission fails when the JobManager cannot load a class of the job. */
    @Command(name = "failing")
    static final class FailingSubmission implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            throw new Exception(
                    "Failed to execute job 'flink-tensorrt'.",
                    new RuntimeException(
                            "org.apache.flink.runtime.client.JobSubmissionException: Failed to submit job.",
                            new NoClassDefFoundError(
                                    "com/fasterxml/jackson/core/JsonParseException")));
        }
    }

    @Test
    void aFailurePrintsEveryCause() {
        PrintStream stderr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = CommandRunner.execute(new FailingSubmission());
        } finally {
            System.setErr(stderr);
        }

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8).lines())
                .containsExactly(
                        "error: Failed to execute job 'flink-tensorrt'.",
                        "  caused by: java.lang.RuntimeException: org.apache.flink.runtime.client.JobSubmissionException: Failed to submit job.",
                        "  caused by: java.lang.NoClassDefFoundError: com/fasterxml/jackson/core/JsonParseException");
    }
}
