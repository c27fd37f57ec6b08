package io.flinktrt.tools.cli;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.TensorRtOptions;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.build.EngineBuilder;
import io.flinktrt.backend.tensorrt.plan.BatchBuckets;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** {@code build-engine}: ONNX model to TensorRT plan plus metadata, with trtexec-like flags. */
@Command(
        name = "build-engine",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Builds a TensorRT plan from an ONNX model and writes its metadata next to it (PLAN.json).",
            "Shapes are trtexec-style: --shapes input:1x3x224x224/64x3x224x224/128x3x224x224 (min/opt/max, one"
                    + " shape for a fixed input; several inputs separated by commas or given as repeated options).",
            "--batch-buckets 1,8,32,128 makes one optimization profile per bucket (batch 1, 2-8, 9-32, 33-128,"
                    + " each tuned at its top); with it, --shapes only supplies dynamic non-batch dimensions.",
            "Without either, a dynamic batch gets buckets 1,8,32,64.",
            "uint8 inputs (camera frames): TensorRT takes uint8 only into a Cast, so a model that moves the frame"
                    + " first (torch `frames.permute(0, 3, 1, 2).float()`) is rewritten to cast it to float where it"
                    + " enters; the changes are printed, and a model that cannot be made exact so is refused with"
                    + " what to change in its export."
        })
public final class BuildEngineCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Option(
            names = "--onnx",
            required = true,
            paramLabel = "FILE",
            description = "ONNX model to build from.")
    private Path onnx;

    @Option(
            names = "--save-engine",
            required = true,
            paramLabel = "PLAN",
            description = "Where to write the plan.")
    private Path saveEngine;

    @Option(names = "--fp16", description = "Allow FP16 kernels.")
    private boolean fp16;

    @Option(
            names = "--int8",
            description = "Allow INT8 kernels, calibrated with --calib-data or --calib-cache.")
    private boolean int8;

    @Option(
            names = "--calib-data",
            paramLabel = "DIR|FILE.avro",
            description =
                    "INT8 calibration samples: a folder of raw little-endian tensors (*.raw/*.bin; a subfolder"
                            + " per input for several inputs) or an Avro file of InferenceRequest records.")
    private Path calibData;

    @Option(
            names = "--calib-cache",
            paramLabel = "FILE",
            description =
                    "INT8 calibration cache: reused when it exists, written after calibrating otherwise.")
    private Path calibCache;

    @Option(
            names = "--shapes",
            paramLabel = "NAME:MIN/OPT/MAX",
            description = "Input shape ranges, see above.")
    private List<String> shapes = List.of();

    @Option(
            names = "--batch-buckets",
            paramLabel = "N,N,...",
            description = "One optimization profile per bucket.")
    private String batchBuckets;

    @Option(
            names = "--sequence-lengths",
            paramLabel = "N,N,...",
            description =
                    "Text models: lengths of the dimension after the batch (tokens), e.g."
                            + " 16,32,64,128; each batch bucket gets one profile per length, and a"
                            + " batch runs at the smallest that holds its longest text.")
    private String sequenceLengths;

    @Option(
            names = "--workspace",
            paramLabel = "MiB",
            defaultValue = "" + BuildOptions.DEFAULT_WORKSPACE_MIB,
            description = "Workspace memory pool limit in MiB (default ${DEFAULT-VALUE}).")
    private long workspaceMiB;

    @Option(
            names = "--timing-cache",
            paramLabel = "FILE",
            description = "TensorRT timing cache: loaded when it exists, saved after the build.")
    private Path timingCache;

    @Option(
            names = "--opt-level",
            paramLabel = "0-5",
            defaultValue = "" + BuildOptions.DEFAULT_OPTIMIZATION_LEVEL,
            description = "Builder optimization level (default ${DEFAULT-VALUE}).")
    private int optLevel;

    @Option(
            names = "--tactic-sources",
            paramLabel = "SRC,SRC",
            defaultValue = BuildOptions.DEFAULT_TACTIC_SOURCES,
            description =
                    "Tactic sources to enable, from CUBLAS, CUBLAS_LT, CUDNN, EDGE_MASK_CONVOLUTIONS,"
                            + " JIT_CONVOLUTIONS (default ${DEFAULT-VALUE}: TensorRT's own kernels only).")
    private String tacticSources;

    @Option(
            names = "--strongly-typed",
            description =
                    "A strongly typed network: each layer's precision comes from the model (an FP16"
                            + " ONNX model, Q/DQ nodes for INT8), not from --fp16/--int8; the way"
                            + " TensorRT 11 builds.")
    private boolean stronglyTyped;

    @Option(
            names = "--version-compatible",
            description =
                    "Build a plan later TensorRT versions can run; it carries host code, so loading it needs"
                            + " the option tensorrt.allow-host-code=true.")
    private boolean versionCompatible;

    @Option(
            names = "--device",
            defaultValue = "0",
            paramLabel = "N",
            description = "GPU to build on (default ${DEFAULT-VALUE}).")
    private int device;

    @Option(names = "--verbose", description = "Print TensorRT's info and verbose messages.")
    private boolean verbose;

    @Option(
            names = "--check",
            description =
                    "After building, run the plan and ONNX Runtime on the same random inputs"
                            + " and print the max abs difference and top-1 agreement per output.")
    private boolean check;

    @Option(
            names = "--check-rows",
            defaultValue = "8",
            paramLabel = "N",
            description = "Rows of random input for --check (default ${DEFAULT-VALUE}).")
    private int checkRows;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BuildOptions options;
        try {
            options =
                    BuildOptions.builder(onnx, saveEngine)
                            .setFp16(fp16)
                            .setInt8(int8, calibData, calibCache)
                            .setShapes(flag("--shapes", () -> ShapeRange.parseAll(shapes)))
                            .setBatchBuckets(
                                    batchBuckets == null
                                            ? List.of()
                                            : flag(
                                                    "--batch-buckets",
                                                    () -> BatchBuckets.parse(batchBuckets)))
                            .setSequenceLengths(
                                    sequenceLengths == null
                                            ? List.of()
                                            : flag(
                                                    "--sequence-lengths",
                                                    () ->
                                                            BatchBuckets.parseLengths(
                                                                    sequenceLengths)))
                            .setWorkspaceMiB(workspaceMiB)
                            .setTimingCache(timingCache)
                            .setOptimizationLevel(optLevel)
                            .setTacticSources(
                                    flag(
                                            "--tactic-sources",
                                            () -> BuildOptions.parseTacticSources(tacticSources)))
                            .setVersionCompatible(versionCompatible)
                            .setStronglyTyped(stronglyTyped)
                            .setDevice(device)
                            .setVerbose(verbose)
                            .build();
        } catch (IllegalArgumentException e) {
            err.println("build-engine: " + e.getMessage());
            return 2;
        }
        try {
            out.println("Building " + onnx + " -> " + saveEngine);
            out.flush();
            EngineBuilder.Result result =
                    EngineBuilder.build(
                            options,
                            line -> {
                                out.println(line);
                                out.flush();
                            });
            print(out, result.metadata());
            if (check) {
                // the plan was built here and now: its host code is trusted
                Map<String, String> hostCode =
                        versionCompatible
                                ? Map.of(TensorRtOptions.ALLOW_HOST_CODE.key(), "true")
                                : Map.of();
                EngineCheck.compare(
                                result.plan(), onnx, checkRows, EngineCheck.SEED, device, hostCode)
                        .print(out);
            }
            out.flush();
            return 0;
        } catch (BackendException e) {
            err.println("build-engine: " + e.getMessage());
            return 1;
        }
    }

    /** Parses one flag's value; a bad value's message starts with the flag. */
    private static <T> T flag(String name, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    private static void print(PrintWriter out, PlanMetadata m) {
        out.printf(
                "Built in %.1f s with TensorRT %s (CUDA %s) on %s (compute %s)%n",
                m.buildSeconds(),
                m.tensorRtVersion(),
                m.cudaRuntimeVersion(),
                m.gpuName(),
                m.computeCapability());
        out.printf("Plan: %d bytes, SHA-256 %s%n", m.planBytes(), m.planSha256());
        PlanMetadata.BuildFlags f = m.flags();
        out.printf(
                "Flags: stronglyTyped=%s fp16=%s int8=%s versionCompatible=%s tactics=%s workspace=%d MiB optLevel=%d buckets=%s%n",
                f.stronglyTyped(),
                f.fp16(),
                f.int8(),
                f.versionCompatible(),
                f.tacticSources(),
                f.workspaceMiB(),
                f.optimizationLevel(),
                f.batchBuckets());
        for (TensorSpec input : m.tensors().inputs()) {
            out.printf("  INPUT  %s%n", input);
        }
        for (TensorSpec output : m.tensors().outputs()) {
            out.printf("  OUTPUT %s%n", output);
        }
        out.printf("  Batch per profile (min/opt/max): %s%n", m.tensors().profiles());
    }
}
