package io.flinktrt.jobs;

import io.flinktrt.jobs.cli.Cli;

/**
 * Main class of the job jar for {@code flink run}: the arguments are those of the {@code run}
 * command, e.g. {@code flink run flink-tensorrt-jobs-job.jar --bootstrap-servers kafka:9092 --model /models/m.plan}.
 */
public final class InferenceJobMain {

    private InferenceJobMain() {}

    public static void main(String[] args) {
        String[] runArgs = new String[args.length + 1];
        runArgs[0] = "run";
        System.arraycopy(args, 0, runArgs, 1, args.length);
        int code = Cli.execute(runArgs);
        if (code != 0) {
            throw new IllegalStateException("flink-tensorrt run failed with exit code " + code + "; see the error above");
        }
    }
}
