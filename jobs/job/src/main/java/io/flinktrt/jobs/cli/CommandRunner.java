package io.flinktrt.jobs.cli;

import org.apache.flink.annotation.Internal;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Runs one command of the launcher and returns its exit code: 0 done, 1 failed, 2 bad usage. Prints
 * a command's failure as {@code error: <message>} and one {@code caused by:} line per cause, so
 * that a wrapper such as Flink's "Failed to execute job" does not hide what went wrong. The stack
 * trace follows with {@code -Dflinktrt.stacktrace=true}. Exit code 1.
 */
@Internal
public final class CommandRunner implements CommandLine.IExecutionExceptionHandler {

    private CommandRunner() {}

    /** Runs {@code command} (the launcher, or one of its commands on its own) with {@code args}. */
    public static int execute(Object command, String... args) {
        return new CommandLine(command)
                .setExecutionExceptionHandler(new CommandRunner())
                .execute(args);
    }

    @Override
    public int handleExecutionException(
            Exception error, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        PrintWriter err = commandLine.getErr();
        err.println("error: " + (error.getMessage() == null ? error : error.getMessage()));
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.add(error);
        for (Throwable cause = error.getCause();
                cause != null && seen.add(cause);
                cause = cause.getCause()) {
            err.println(
                    "  caused by: "
                            + cause.getClass().getName()
                            + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
        }
        if (Boolean.getBoolean("flinktrt.stacktrace")) {
            error.printStackTrace(err);
        }
        err.flush();
        return 1;
    }
}
