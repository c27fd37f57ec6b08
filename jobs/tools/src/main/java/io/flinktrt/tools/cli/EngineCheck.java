package io.flinktrt.tools.cli;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.Backends;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.backend.tensorrt.TensorRtBackend;
import io.flinktrt.schema.DataType;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;

/**
 * Runs a plan and its ONNX model (on ONNX Runtime, the CPU reference) on the same random inputs and
 * compares every output (build-engine --check, check-engine, and the GPU tests). Floating inputs
 * are uniform in [-1, 1); integer inputs uniform in [0, {@link #INT_RANGE}), except inputs named
 * like a mask, which get 0 or 1.
 */
public final class EngineCheck {

    /** The random inputs' seed of build-engine --check and check-engine. */
    public static final long SEED = 20261124L;

    /** Integer inputs stay below this: valid token ids for any vocabulary of at least 100. */
    public static final int INT_RANGE = 100;

    /**
     * @param maxAbsDiff largest |TensorRT - ONNX Runtime| over all rows and elements
     * @param top1Agreement rows whose argmax agrees (classification-like outputs: more than one
     *     element per row)
     */
    public record OutputDiff(
            String name, double maxAbsDiff, int top1Agreement, int rows, boolean hasTop1) {

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "%s: max |diff| %.6g%s",
                    name,
                    maxAbsDiff,
                    hasTop1 ? ", top-1 agreement " + top1Agreement + "/" + rows : "");
        }
    }

    /**
     * @param tensorRt how the batch ran on TensorRT (rows padded to its bucket)
     */
    public record Report(int rows, List<OutputDiff> outputs, BatchRun tensorRt) {

        void print(PrintWriter out) {
            out.printf(
                    "Check against ONNX Runtime (CPU), %d random rows (TensorRT ran %d, %.3f ms):%n",
                    rows, tensorRt.executedRows(), tensorRt.computeNanos() / 1e6);
            outputs.forEach(d -> out.println("  " + d));
        }
    }

    private EngineCheck() {}

    /**
     * @param options the TensorRT runner's options, e.g. tensorrt.allow-host-code=true for a
     *     version-compatible plan
     */
    public static Report compare(
            Path plan, Path onnx, int rows, long seed, int device, Map<String, String> options)
            throws BackendException, InterruptedException {
        try (ModelRunner trt =
                        Backends.select(TensorRtBackend.NAME, plan)
                                .backend()
                                .open(new ModelConfig(plan, device, 0, 1, options));
                ModelRunner ort =
                        Backends.select(OnnxRuntimeBackend.NAME, onnx)
                                .backend()
                                .open(new ModelConfig(onnx, 0, rows, 1, Map.of()))) {
            if (rows > trt.signature().maxBatchSize()) {
                throw new BackendException(
                        "--check-rows "
                                + rows
                                + " is above the plan's max batch "
                                + trt.signature().maxBatchSize());
            }
            BatchBuffers t = trt.acquire();
            BatchBuffers o = ort.acquire();
            Random random = new Random(seed);
            for (TensorSpec spec : trt.signature().inputs()) {
                int at = ort.signature().inputIndex(spec.name());
                if (at < 0) {
                    throw new BackendException(
                            "The plan's input " + spec.name() + " is not an input of " + onnx);
                }
                byte[] data = randomRows(spec, rows, random);
                t.input(trt.signature().inputIndex(spec.name())).put(0, data);
                o.input(at).put(0, data);
            }
            BatchRun trtRun = t.run(rows).get();
            o.run(rows).get();
            List<OutputDiff> diffs = new ArrayList<>();
            for (int i = 0; i < trt.signature().outputs().size(); i++) {
                TensorSpec spec = trt.signature().outputs().get(i);
                int at = indexOf(ort.signature().outputs(), spec.name());
                if (at < 0) {
                    throw new BackendException(
                            "The plan's output " + spec.name() + " is not an output of " + onnx);
                }
                diffs.add(diff(spec, t.output(i), o.output(at), rows));
            }
            t.release();
            o.release();
            return new Report(rows, diffs, trtRun);
        } catch (ExecutionException e) {
            throw new BackendException(
                    "A check batch failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    private static int indexOf(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    static byte[] randomRows(TensorSpec spec, int rows, Random random) throws BackendException {
        long count = spec.sampleElements() * rows;
        ByteBuffer out =
                ByteBuffer.allocate(rows * spec.sampleBytes()).order(ByteOrder.LITTLE_ENDIAN);
        boolean mask = spec.name().toLowerCase(Locale.ROOT).contains("mask");
        int bound = mask ? 2 : INT_RANGE;
        for (long n = 0; n < count; n++) {
            switch (spec.dtype()) {
                case FLOAT32 -> out.putFloat(random.nextFloat() * 2 - 1);
                case INT32 -> out.putInt(random.nextInt(bound));
                case INT64 -> out.putLong(random.nextInt(bound));
                case INT8, UINT8 -> out.put((byte) random.nextInt(Math.min(bound, 128)));
                case BOOL -> out.put((byte) random.nextInt(2));
                default ->
                        throw new BackendException(
                                "--check cannot make random "
                                        + spec.dtype()
                                        + " input for "
                                        + spec.name()
                                        + "; it fills FP32 and integer inputs.");
            }
        }
        return out.array();
    }

    private static OutputDiff diff(TensorSpec spec, ByteBuffer trt, ByteBuffer ort, int rows)
            throws BackendException {
        int perRow = Math.toIntExact(spec.sampleElements());
        double maxDiff = 0;
        int agree = 0;
        for (int r = 0; r < rows; r++) {
            int bestT = 0;
            int bestO = 0;
            double maxT = Double.NEGATIVE_INFINITY;
            double maxO = Double.NEGATIVE_INFINITY;
            for (int e = 0; e < perRow; e++) {
                int index = r * perRow + e;
                double a = value(spec.dtype(), trt, index);
                double b = value(spec.dtype(), ort, index);
                maxDiff =
                        Math.max(
                                maxDiff,
                                Double.isNaN(a - b) ? Double.POSITIVE_INFINITY : Math.abs(a - b));
                if (a > maxT) {
                    maxT = a;
                    bestT = e;
                }
                if (b > maxO) {
                    maxO = b;
                    bestO = e;
                }
            }
            agree += bestT == bestO ? 1 : 0;
        }
        return new OutputDiff(spec.name(), maxDiff, agree, rows, perRow > 1);
    }

    private static double value(DataType type, ByteBuffer buffer, int index)
            throws BackendException {
        return switch (type) {
            case FLOAT32 -> buffer.getFloat(index * 4);
            case INT32 -> buffer.getInt(index * 4);
            case INT64 -> buffer.getLong(index * 8);
            case INT8, UINT8, BOOL -> buffer.get(index);
            default -> throw new BackendException("--check does not compare " + type + " outputs");
        };
    }
}
