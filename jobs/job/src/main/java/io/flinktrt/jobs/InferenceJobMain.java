package io.flinktrt.jobs;

import io.flinktrt.jobs.cli.CommandRunner;
import io.flinktrt.jobs.cli.RunCommand;

import org.apache.flink.annotation.Internal;

/**
 * Main class of the job jar for {@code flink run}: the arguments are those of the {@code run}
 * command, e.g. {@code flink run -d -p 2 jobs/job/target/flink-tensorrt-job.jar --bootstrap-servers
 * kafka:9092 --model /models/m.plan}. Only {@code run}: the other commands of the launcher need
 * jars that a Flink cluster does not have, and the job jar leaves them out.
 */
@Internal
public final class InferenceJobMain {

    private InferenceJobMain() {}

    public static void main(String[] args) {
        int code = CommandRunner.execute(new RunCommand(), args);
        if (code != 0) {
            throw new IllegalStateException(
                    "flink-tensorrt run failed with exit code " + code + "; see the error above");
        }
    }
}
