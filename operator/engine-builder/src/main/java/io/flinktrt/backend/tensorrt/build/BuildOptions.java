package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.backend.tensorrt.plan.ShapeRange;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How to build a plan from an ONNX model (build-engine's flags). Made with {@link #builder}; every
 * setting but the model and the plan has a default.
 */
@Internal
public final class BuildOptions {

    /**
     * Only TensorRT's own kernels. The 1.5.11 presets need cuBLAS/cuDNN libraries to load at all,
     * and on our GPU host those are stand-ins, so TensorRT must not pick tactics from them.
     */
    public static final String DEFAULT_TACTIC_SOURCES = "EDGE_MASK_CONVOLUTIONS,JIT_CONVOLUTIONS";

    public static final long DEFAULT_WORKSPACE_MIB = 4096;
    public static final int DEFAULT_OPTIMIZATION_LEVEL = 3;

    private static final List<String> TACTIC_SOURCES =
            List.of("CUBLAS", "CUBLAS_LT", "CUDNN", "EDGE_MASK_CONVOLUTIONS", "JIT_CONVOLUTIONS");

    private final Path onnx;
    private final Path plan;
    private final boolean fp16;
    private final boolean int8;
    private final Path calibrationData;
    private final Path calibrationCache;
    private final Map<String, ShapeRange> shapes;
    private final List<Integer> batchBuckets;
    private final List<Integer> sequenceLengths;
    private final long workspaceMiB;
    private final Path timingCache;
    private final int optimizationLevel;
    private final List<String> tacticSources;
    private final boolean versionCompatible;
    private final boolean stronglyTyped;
    private final int device;
    private final boolean verbose;

    private BuildOptions(Builder b) {
        this.onnx = b.onnx;
        this.plan = b.plan;
        this.fp16 = b.fp16;
        this.int8 = b.int8;
        this.calibrationData = b.calibrationData;
        this.calibrationCache = b.calibrationCache;
        this.shapes = Map.copyOf(b.shapes);
        this.batchBuckets = List.copyOf(b.batchBuckets);
        this.sequenceLengths = List.copyOf(b.sequenceLengths);
        this.workspaceMiB = b.workspaceMiB;
        this.timingCache = b.timingCache;
        this.optimizationLevel = b.optimizationLevel;
        this.tacticSources = List.copyOf(b.tacticSources);
        this.versionCompatible = b.versionCompatible;
        this.stronglyTyped = b.stronglyTyped;
        this.device = b.device;
        this.verbose = b.verbose;
    }

    /**
     * Options to build {@code onnx} into {@code plan} (its metadata goes to {@code plan +
     * ".json"}).
     */
    public static Builder builder(Path onnx, Path plan) {
        return new Builder(onnx, plan);
    }

    public Path onnx() {
        return onnx;
    }

    public Path plan() {
        return plan;
    }

    public boolean fp16() {
        return fp16;
    }

    public boolean int8() {
        return int8;
    }

    /** INT8 samples: a folder of raw tensors or an Avro file of requests; null without. */
    public Path calibrationData() {
        return calibrationData;
    }

    /** Read when present (then no data is needed), written after calibrating; null without. */
    public Path calibrationCache() {
        return calibrationCache;
    }

    /** Input name to min/opt/max. */
    public Map<String, ShapeRange> shapes() {
        return shapes;
    }

    /** One optimization profile per bucket; may be empty. */
    public List<Integer> batchBuckets() {
        return batchBuckets;
    }

    /** Sequence length buckets: a profile per batch bucket and length; empty when none. */
    public List<Integer> sequenceLengths() {
        return sequenceLengths;
    }

    /** TensorRT's workspace memory pool limit. */
    public long workspaceMiB() {
        return workspaceMiB;
    }

    /** Loaded when present, saved after the build; null for none. */
    public Path timingCache() {
        return timingCache;
    }

    /** 0..5, TensorRT's default is 3. */
    public int optimizationLevel() {
        return optimizationLevel;
    }

    /** TensorRT tactic source names to enable, e.g. {@code EDGE_MASK_CONVOLUTIONS}. */
    public List<String> tacticSources() {
        return tacticSources;
    }

    /** Build a plan that later TensorRT versions can run (it embeds host code). */
    public boolean versionCompatible() {
        return versionCompatible;
    }

    /**
     * A strongly typed network: every layer runs in the type the model gives it (FP16 from an FP16
     * model, INT8 from its Q/DQ nodes), no FP16/INT8 builder flags; what TensorRT 11 keeps.
     */
    public boolean stronglyTyped() {
        return stronglyTyped;
    }

    /** GPU index to build on (and tune for). */
    public int device() {
        return device;
    }

    /** Let TensorRT's info and verbose messages through to the log. */
    public boolean verbose() {
        return verbose;
    }

    /**
     * {@code edge_mask_convolutions,JIT_CONVOLUTIONS} (with or without TensorRT's {@code k}) to
     * canonical names.
     */
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
            checkTacticSource(name);
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        return names;
    }

    private static void checkTacticSource(String name) {
        if (!TACTIC_SOURCES.contains(name)) {
            throw new IllegalArgumentException(
                    "Unknown tactic source '"
                            + name
                            + "'; TensorRT 10.6 has "
                            + String.join(", ", TACTIC_SOURCES)
                            + ".");
        }
    }

    /** Sets what differs from the defaults; {@link #build} checks the whole. */
    @PublicEvolving
    public static final class Builder {
        private final Path onnx;
        private Path plan;
        private boolean fp16;
        private boolean int8;
        private Path calibrationData;
        private Path calibrationCache;
        private Map<String, ShapeRange> shapes = Map.of();
        private List<Integer> batchBuckets = List.of();
        private List<Integer> sequenceLengths = List.of();
        private long workspaceMiB = DEFAULT_WORKSPACE_MIB;
        private Path timingCache;
        private int optimizationLevel = DEFAULT_OPTIMIZATION_LEVEL;
        private List<String> tacticSources = parseTacticSources(DEFAULT_TACTIC_SOURCES);
        private boolean versionCompatible;
        private boolean stronglyTyped;
        private int device;
        private boolean verbose;

        private Builder(Path onnx, Path plan) {
            this.onnx = onnx;
            this.plan = plan;
        }

        public Builder setPlan(Path plan) {
            this.plan = plan;
            return this;
        }

        public Builder setFp16(boolean fp16) {
            this.fp16 = fp16;
            return this;
        }

        /**
         * INT8 kernels, calibrated with {@code data} and/or an existing {@code cache} (either may
         * be null).
         */
        public Builder setInt8(boolean int8, Path data, Path cache) {
            this.int8 = int8;
            this.calibrationData = data;
            this.calibrationCache = cache;
            return this;
        }

        public Builder setShapes(Map<String, ShapeRange> shapes) {
            this.shapes = shapes;
            return this;
        }

        public Builder setBatchBuckets(List<Integer> batchBuckets) {
            this.batchBuckets = batchBuckets;
            return this;
        }

        /**
         * Lengths of the dimension after the batch (text: tokens) to build a profile for, with each
         * batch bucket: a batch then runs at the smallest length that holds its longest row.
         */
        public Builder setSequenceLengths(List<Integer> sequenceLengths) {
            this.sequenceLengths = sequenceLengths;
            return this;
        }

        public Builder setWorkspaceMiB(long workspaceMiB) {
            this.workspaceMiB = workspaceMiB;
            return this;
        }

        public Builder setTimingCache(Path timingCache) {
            this.timingCache = timingCache;
            return this;
        }

        public Builder setOptimizationLevel(int optimizationLevel) {
            this.optimizationLevel = optimizationLevel;
            return this;
        }

        public Builder setTacticSources(List<String> tacticSources) {
            this.tacticSources = tacticSources;
            return this;
        }

        public Builder setStronglyTyped(boolean stronglyTyped) {
            this.stronglyTyped = stronglyTyped;
            return this;
        }

        public Builder setVersionCompatible(boolean versionCompatible) {
            this.versionCompatible = versionCompatible;
            return this;
        }

        public Builder setDevice(int device) {
            this.device = device;
            return this;
        }

        public Builder setVerbose(boolean verbose) {
            this.verbose = verbose;
            return this;
        }

        /**
         * @throws IllegalArgumentException naming the setting that cannot work and what to give
         *     instead
         */
        public BuildOptions build() {
            sanityCheck();
            return new BuildOptions(this);
        }

        private void sanityCheck() {
            if (onnx == null) {
                throw new IllegalArgumentException("No ONNX model to build from; give its path.");
            }
            if (plan == null) {
                throw new IllegalArgumentException("No path for the plan; give where to write it.");
            }
            if (optimizationLevel < 0 || optimizationLevel > 5) {
                throw new IllegalArgumentException(
                        "The optimization level is 0 to 5 (TensorRT's default "
                                + DEFAULT_OPTIMIZATION_LEVEL
                                + "), not "
                                + optimizationLevel
                                + ".");
            }
            if (workspaceMiB < 1) {
                throw new IllegalArgumentException(
                        "The workspace needs at least 1 MiB, was "
                                + workspaceMiB
                                + " (default "
                                + DEFAULT_WORKSPACE_MIB
                                + ").");
            }
            if (device < 0) {
                throw new IllegalArgumentException(
                        "The GPU index is 0 or more, was " + device + ".");
            }
            tacticSources.forEach(BuildOptions::checkTacticSource);
            if (stronglyTyped && (fp16 || int8)) {
                throw new IllegalArgumentException(
                        "A strongly typed build takes each layer's precision from the model (an FP16"
                                + " ONNX model for FP16, Q/DQ nodes for INT8); leave out --fp16 and --int8.");
            }
            if (!int8 && (calibrationData != null || calibrationCache != null)) {
                throw new IllegalArgumentException(
                        "Calibration data or a calibration cache is only used for INT8;"
                                + " turn INT8 on or leave them out.");
            }
        }
    }
}
