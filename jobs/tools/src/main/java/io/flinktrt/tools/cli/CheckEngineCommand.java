package io.flinktrt.tools.cli;

import io.flinktrt.backend.BackendException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code check-engine}: build-engine's --check for a plan that exists, e.g. one built elsewhere for
 * a later TensorRT (--version-compatible), or one to be compared with another model than its own.
 */
@Command(
        name = "check-engine",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Runs a TensorRT plan and an ONNX model on ONNX Runtime (CPU) on the same random inputs and prints"
                    + " the max abs difference and top-1 agreement per output, as build-engine --check does.",
            "--onnx may be another model with the same inputs and outputs as the one the plan was built"
                    + " from: the float32 original of an FP16 or Q/DQ model, say."
        })
public final class CheckEngineCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Option(names = "--engine", required = true, paramLabel = "PLAN", description = "The plan.")
    private Path engine;

    @Option(
            names = "--onnx",
            required = true,
            paramLabel = "FILE",
            description = "The ONNX model ONNX Runtime runs as the reference.")
    private Path onnx;

    @Option(
            names = "--rows",
            defaultValue = "8",
            paramLabel = "N",
            description = "Rows of random input (default ${DEFAULT-VALUE}).")
    private int rows;

    @Option(
            names = "--device",
            defaultValue = "0",
            paramLabel = "N",
            description = "GPU (default ${DEFAULT-VALUE}).")
    private int device;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description =
                    "TensorRT option, e.g. tensorrt.allow-host-code=true for a version-compatible plan.")
    private Map<String, String> settings = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        try {
            EngineCheck.compare(engine, onnx, rows, EngineCheck.SEED, device, settings)
                    .print(spec.commandLine().getOut());
            spec.commandLine().getOut().flush();
            return 0;
        } catch (BackendException e) {
            spec.commandLine().getErr().println("check-engine: " + e.getMessage());
            return 1;
        }
    }
}
