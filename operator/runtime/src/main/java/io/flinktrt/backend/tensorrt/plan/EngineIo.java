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
import java.util.List;

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
        for (int i = 0; i < engine.getNbIOTensors(); i++) {
            String name = engine.getIOTensorName(i);
            TensorSpec tensor =
                    new TensorSpec(
                            name,
                            TrtTypes.toWireOrThrow(engine.getTensorDataType(name), name),
                            sampleShape(name, dims(engine.getTensorShape(name))));
            if (engine.getTensorIOMode(name).value == nvinfer.TensorIOMode.kINPUT.value) {
                long[] fixed =
                        profileShapes(
                                engine, name, batchRanges); // where the engine leaves it dynamic
                inputs.add(fixed == null ? tensor : new TensorSpec(name, tensor.dtype(), fixed));
            } else {
                outputs.add(tensor);
            }
        }
        return new PlanTensors(inputs, outputs, batchRanges);
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
     * Checks an input's shapes in every profile and returns its sample shape in profile 0 (null
     * without profiles); adds each profile's batch range to {@code batchRanges} (the first
     * input's), or checks it against them.
     */
    private static long[] profileShapes(
            ICudaEngine engine, String input, List<BatchRange> batchRanges)
            throws BackendException {
        long[] sample = null;
        for (int p = 0; p < engine.getNbOptimizationProfiles(); p++) {
            long[] min = dims(engine.getProfileShape(input, p, nvinfer.OptProfileSelector.kMIN));
            long[] opt = dims(engine.getProfileShape(input, p, nvinfer.OptProfileSelector.kOPT));
            long[] max = dims(engine.getProfileShape(input, p, nvinfer.OptProfileSelector.kMAX));
            long[] maxSample = sampleShape(input, max);
            if (!Arrays.equals(sampleShape(input, min), maxSample)) {
                throw new BackendException(
                        "Input "
                                + input
                                + " varies beyond its batch dimension in profile "
                                + p
                                + " ("
                                + ShapeRange.format(min)
                                + " to "
                                + ShapeRange.format(max)
                                + "); a runner needs fixed"
                                + " sample shapes. Rebuild the plan with batch buckets and fixed sample dimensions.");
            }
            if (sample == null) {
                sample = maxSample;
            }
            BatchRange range = new BatchRange((int) min[0], (int) opt[0], (int) max[0]);
            if (batchRanges.size() == p) {
                batchRanges.add(range);
            } else if (!batchRanges.get(p).equals(range)) {
                throw new BackendException(
                        "The inputs of profile "
                                + p
                                + " disagree on the batch range: "
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
