package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.backend.tensorrt.plan.ShapeRange;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How to build a plan from an ONNX model (build-engine's flags).
 *
 * @param plan where the plan goes; its metadata goes to {@code plan + ".json"}
 * @param calibrationData INT8 samples: a folder of raw tensors or an Avro file of requests
 * @param calibrationCache read when present (then no data is needed), written after calibrating
 * @param shapes input name to min/opt/max ({@code --shapes})
 * @param batchBuckets one optimization profile per bucket ({@code --batch-buckets}), may be empty
 * @param workspaceMiB TensorRT's workspace memory pool limit
 * @param timingCache loaded when present, saved after the build; null for none
 * @param optimizationLevel 0..5, TensorRT's default is 3
 * @param tacticSources TensorRT tactic source names to enable, e.g. {@code EDGE_MASK_CONVOLUTIONS}
 * @param versionCompatible build a plan that later TensorRT versions can run (it embeds host code)
 * @param device GPU index to build on (and tune for)
 * @param verbose let TensorRT's info and verbose messages through to the log
 */
public record BuildOptions(
        Path onnx,
        Path plan,
        boolean fp16,
        boolean int8,
        Path calibrationData,
        Path calibrationCache,
        Map<String, ShapeRange> shapes,
        List<Integer> batchBuckets,
        long workspaceMiB,
        Path timingCache,
        int optimizationLevel,
        List<String> tacticSources,
        boolean versionCompatible,
        int device,
        boolean verbose) {

    /**
     * Only TensorRT's own kernels. The 1.5.11 presets need cuBLAS/cuDNN libraries to load at all, and
     * on our GPU host those are stand-ins, so TensorRT must not pick tactics from them.
     */
    public static final List<String> DEFAULT_TACTIC_SOURCES = List.of("EDGE_MASK_CONVOLUTIONS", "JIT_CONVOLUTIONS");
    public static final long DEFAULT_WORKSPACE_MIB = 4096;
    public static final int DEFAULT_OPTIMIZATION_LEVEL = 3;

    public BuildOptions {
        shapes = Map.copyOf(shapes);
        batchBuckets = List.copyOf(batchBuckets);
        tacticSources = List.copyOf(tacticSources);
        if (optimizationLevel < 0 || optimizationLevel > 5) {
            throw new IllegalArgumentException("The optimization level is 0..5, not " + optimizationLevel);
        }
        if (workspaceMiB < 1) {
            throw new IllegalArgumentException("The workspace needs at least 1 MiB");
        }
    }

    /** The defaults, as build-engine uses them when given only --onnx and --save-engine. */
    public static BuildOptions defaults(Path onnx, Path plan) {
        return new BuildOptions(onnx, plan, false, false, null, null, Map.of(), List.of(), DEFAULT_WORKSPACE_MIB,
                null, DEFAULT_OPTIMIZATION_LEVEL, DEFAULT_TACTIC_SOURCES, false, 0, false);
    }

    /** {@code edge_mask_convolutions,JIT_CONVOLUTIONS} (with or without TensorRT's {@code k}) to canonical names. */
    public static List<String> parseTacticSources(String text) {
        List<String> names = new ArrayList<>();
        for (String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String name = part.trim().toUpperCase(Locale.ROOT);
            if (name.startsWith("K") && !name.equals("K")) {
                name = name.substring(1);
            }
            if (!List.of("CUBLAS", "CUBLAS_LT", "CUDNN", "EDGE_MASK_CONVOLUTIONS", "JIT_CONVOLUTIONS").contains(name)) {
                throw new IllegalArgumentException("Unknown tactic source '" + part.trim() + "'; TensorRT 10.6 has"
                        + " CUBLAS, CUBLAS_LT, CUDNN, EDGE_MASK_CONVOLUTIONS and JIT_CONVOLUTIONS");
            }
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        return names;
    }
}
