package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.tensorrt.gpu.TrtTypes;

import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.List;

/** Reads an engine's inputs and outputs, with every input's shapes per optimization profile. */
@Internal
public final class EngineIo {

    private EngineIo() {}

    public static List<PlanMetadata.IoTensor> describe(ICudaEngine engine) {
        List<PlanMetadata.IoTensor> tensors = new ArrayList<>();
        int profiles = engine.getNbOptimizationProfiles();
        for (int i = 0; i < engine.getNbIOTensors(); i++) {
            String name = engine.getIOTensorName(i);
            boolean input = engine.getTensorIOMode(name).value == nvinfer.TensorIOMode.kINPUT.value;
            List<ShapeRange> ranges = new ArrayList<>();
            if (input) {
                for (int p = 0; p < profiles; p++) {
                    ranges.add(new ShapeRange(
                            dims(engine.getProfileShape(name, p, nvinfer.OptProfileSelector.kMIN)),
                            dims(engine.getProfileShape(name, p, nvinfer.OptProfileSelector.kOPT)),
                            dims(engine.getProfileShape(name, p, nvinfer.OptProfileSelector.kMAX))));
                }
            }
            tensors.add(new PlanMetadata.IoTensor(name, input ? PlanMetadata.IoTensor.INPUT : PlanMetadata.IoTensor.OUTPUT,
                    TrtTypes.name(engine.getTensorDataType(name)), dims(engine.getTensorShape(name)), ranges));
        }
        return tensors;
    }

    /** Copies a returned Dims64 into Java and frees it (each by-value Dims64 is a native allocation). */
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
