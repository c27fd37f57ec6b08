package io.flinktrt.tools.cli;

import io.flinktrt.jobs.cli.CommandRunner;
import io.flinktrt.jobs.cli.RunCommand;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one launcher: {@code bin/flink-tensorrt <command> [--help]}. */
@Command(
        name = "flink-tensorrt",
        mixinStandardHelpOptions = true,
        version = "flink-tensorrt 0.1.0",
        description =
                "GPU inference inside Apache Flink streams: TensorRT on the GPU, ONNX Runtime on the CPU.",
        subcommands = {
            LocalCommand.class,
            RunCommand.class,
            BuildEngineCommand.class,
            CheckEngineCommand.class,
            DoctorCommand.class,
            ProduceCommand.class,
            ConsumeCommand.class,
            BenchCommand.class,
            SqlCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Cli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command and returns its exit code: 0 done, 1 failed, 2 bad usage. */
    public static int execute(String... args) {
        return CommandRunner.execute(new Cli(), args);
    }
}
