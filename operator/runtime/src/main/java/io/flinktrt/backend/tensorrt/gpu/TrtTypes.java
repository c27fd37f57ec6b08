package io.flinktrt.backend.tensorrt.gpu;

import io.flinktrt.backend.BackendException;
import io.flinktrt.schema.DataType;

import org.apache.flink.annotation.Internal;

import org.bytedeco.tensorrt.global.nvinfer;

/**
 * TensorRT data types against the wire format's; compared by value (native enums are new objects).
 */
@Internal
public final class TrtTypes {

    private TrtTypes() {}

    /** The wire type for a TensorRT type, or null when the wire format has none (FP8, INT4). */
    static DataType toWire(nvinfer.DataType type) {
        int v = type.value;
        if (v == nvinfer.DataType.kFLOAT.value) return DataType.FLOAT32;
        if (v == nvinfer.DataType.kHALF.value) return DataType.FLOAT16;
        if (v == nvinfer.DataType.kBF16.value) return DataType.BFLOAT16;
        if (v == nvinfer.DataType.kINT32.value) return DataType.INT32;
        if (v == nvinfer.DataType.kINT64.value) return DataType.INT64;
        if (v == nvinfer.DataType.kINT8.value) return DataType.INT8;
        if (v == nvinfer.DataType.kUINT8.value) return DataType.UINT8;
        if (v == nvinfer.DataType.kBOOL.value) return DataType.BOOL;
        return null;
    }

    public static DataType toWireOrThrow(nvinfer.DataType type, String tensor)
            throws BackendException {
        DataType wire = toWire(type);
        if (wire == null) {
            throw notOnTheWire(tensor, type.intern().name());
        }
        return wire;
    }

    /** The error for a tensor whose TensorRT type requests and results cannot carry. */
    public static BackendException notOnTheWire(String tensor, String tensorRtType) {
        return new BackendException(
                "Tensor "
                        + tensor
                        + " has TensorRT type "
                        + tensorRtType
                        + ", which the wire format does not carry; keep model inputs and outputs in FP32/FP16/INT types.");
    }

    /** The name written in plan metadata. */
    public static String name(nvinfer.DataType type) {
        DataType wire = toWire(type);
        return wire != null ? wire.name() : type.intern().name();
    }
}
