package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.gpu.TrtTypes;
import io.flinktrt.backend.tensorrt.plan.PlanTensors.BatchRange;

import org.apache.flink.annotation.Internal;

import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Reads an engine's inputs and outputs, and the batch range of each optimization profile. */
@Internal
public final class EngineIo {

    private EngineIo() {}

    /**
     * Fails for an engine a runner cannot serve: a scalar or a type the wire format lacks, an input
     * that varies beyond its batch dimension (a runner's sample shapes are fixed), or inputs whose
     * batch ranges disagree within a profile.
     */
    public static PlanTensors describe(ICudaEngine engine) throws BackendException {
        List<TensorSpec> inputs = new ArrayList<>();
        List<TensorSpec> outputs = new ArrayList<>();
        List<BatchRange> batchRanges = new ArrayList<>();
        Set<String> sequenceTensors = new HashSet<>();
        for (int i = 0; i < engine.getNbIOTensors(); i++) {
            String name = engine.getIOTensorName(i);
            long[] shape = dims(engine.getTensorShape(name));
            TensorSpec tensor =
                    new TensorSpec(
                            name,
                            TrtTypes.toWireOrThrow(engine.getTensorDataType(name), name),
                            sampleShape(name, shape));
            if (engine.getTensorIOMode(name).value == nvinfer.TensorIOMode.kINPUT.value) {
                long[] fixed =
                        profileShapes(
                                engine, name, batchRanges); // where the engine leaves it dynamic
                if (fixed != null && batchRanges.stream().anyMatch(r -> r.maxLength() > 0)) {
                    sequenceTensors.add(name);
                }
                inputs.add(fixed == null ? tensor : new TensorSpec(name, tensor.dtype(), fixed));
            } else {
                if (shape.length > 1 && shape[1] < 0) {
                    sequenceTensors.add(name); // kept only if the inputs have a sequence axis
                }
                outputs.add(tensor);
            }
        }
        if (inputs.stream().noneMatch(input -> sequenceTensors.contains(input.name()))) {
            sequenceTensors.clear();
        }
        return new PlanTensors(inputs, outputs, batchRanges, sequenceTensors);
    }

    private static long[] sampleShape(String name, long[] shape) throws BackendException {
        if (shape.length == 0) {
            throw new BackendException(
                    "Tensor "
                            + name
                            + " is a scalar; the first dimension of every input and"
                            + " output must be the batch.");
        }
        return Arrays.copyOfRange(shape, 1, shape.length);
    }

    /**
     * Checks an input's shapes in every profile and returns its sample shape (null without
     * profiles): fixed, or varying only in the dimension after the batch (a sequence axis), then at
     * the longest length of any profile. Adds each profile's batch and length range to {@code
     * batchRanges} (the first input's), or checks it against them.
     */
    private static long[] profileShapes(
            ICudaEngine engine, String input, List<BatchRange> batchRanges)
            throws BackendException {
        long[] sample = null;
        int profiles = engine.getNbOptimizationProfiles();
        List<long[]> mins = new ArrayList<>();
        List<long[]> opts = new ArrayList<>();
        List<long[]> maxes = new ArrayList<>();
        for (int p = 0; p < profiles; p++) {
            mins.add(dims(engine.getProfileShape(input, p, nvinfer.OptProfileSelector.kMIN)));
            opts.add(dims(engine.getProfileShape(input, p, nvinfer.OptProfileSelector.kOPT)));
            maxes.add(dims(engine.getProfileShape(input, p, nvinfer.OptProfileSelector.kMAX)));
        }
        boolean sequence = varyingLength(mins, maxes);
        for (int p = 0; p < profiles; p++) {
            long[] min = mins.get(p);
            long[] opt = opts.get(p);
            long[] max = maxes.get(p);
            long[] minSample = sampleShape(input, min);
            long[] maxSample = sampleShape(input, max);
            if (sequence) { // only the length may vary
                minSample[0] = maxSample[0];
            }
            if (!Arrays.equals(minSample, maxSample)) {
                throw new BackendException(
                        "Input "
                                + input
                                + " varies beyond its batch and sequence dimensions in profile "
                                + p
                                + " ("
                                + ShapeRange.format(min)
                                + " to "
                                + ShapeRange.format(max)
                                + "); a runner needs fixed"
                                + " sample shapes past a sequence length. Rebuild the plan with batch"
                                + " buckets and fixed sample dimensions.");
            }
            if (sample == null || (sequence && maxSample[0] > sample[0])) {
                sample = maxSample;
            }
            BatchRange range =
                    new BatchRange(
                            (int) min[0],
                            (int) opt[0],
                            (int) max[0],
                            sequence ? (int) min[1] : 0,
                            sequence ? (int) max[1] : 0);
            if (batchRanges.size() == p) {
                batchRanges.add(range);
            } else if (!batchRanges.get(p).equals(range)) {
                throw new BackendException(
                        "The inputs of profile "
                                + p
                                + " disagree on the batch or sequence range: "
                                + batchRanges.get(p)
                                + " and "
                                + range
                                + " ("
                                + input
                                + ").");
            }
        }
        return sample;
    }

    /** Whether the dimension after the batch takes several lengths across the profiles. */
    private static boolean varyingLength(List<long[]> mins, List<long[]> maxes) {
        if (mins.isEmpty() || mins.get(0).length < 2) {
            return false;
        }
        long first = maxes.get(0)[1];
        for (int p = 0; p < mins.size(); p++) {
            if (mins.get(p)[1] != maxes.get(p)[1] || maxes.get(p)[1] != first) {
                return true;
            }
        }
        return false;
    }

    /**
     * Copies a returned Dims64 into Java and frees it (each by-value Dims64 is a native
     * allocation).
     */
    public static long[] dims(Dims64 dims) {
        try {
            long[] out = new long[dims.nbDims()];
            for (int d = 0; d < out.length; d++) {
                out[d] = dims.d(d);
            }
            return out;
        } finally {
            dims.deallocate();
        }
    }

    public static Dims64 toDims(long[] shape) {
        Dims64 dims = new Dims64();
        dims.nbDims(shape.length);
        for (int d = 0; d < shape.length; d++) {
            dims.d(d, shape[d]);
        }
        return dims;
    }
}
