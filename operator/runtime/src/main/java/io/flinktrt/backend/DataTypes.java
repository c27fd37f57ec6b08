package io.flinktrt.backend;

import io.flinktrt.schema.DataType;

import org.apache.flink.annotation.PublicEvolving;

/** Facts about {@link DataType}s. */
@PublicEvolving
public final class DataTypes {

    private DataTypes() {}

    public static int byteSize(DataType type) {
        return switch (type) {
            case FLOAT32, INT32 -> 4;
            case INT64 -> 8;
            case FLOAT16, BFLOAT16 -> 2;
            case INT8, UINT8, BOOL -> 1;
        };
    }

    public static boolean isFloatingPoint(DataType type) {
        return type == DataType.FLOAT32 || type == DataType.FLOAT16 || type == DataType.BFLOAT16;
    }
}
