package io.flinktrt.sql;

import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.BinaryType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.util.Optional;

/** How a SQL column carries one tensor of one row. */
enum TensorForm {
    /** {@code ARRAY<numeric>}: every element of the sample, flattened in row-major order. */
    ARRAY,
    /** A numeric column: a tensor of one element per row. */
    SCALAR,
    /** {@code BYTES}/{@code BINARY(n)}: the sample's raw little-endian bytes, of any dtype. */
    BYTES;

    /** The tensor element type that a SQL numeric type is, if the engines take it. */
    static Optional<DataType> dtypeOf(LogicalType numeric) {
        return Optional.ofNullable(
                switch (numeric.getTypeRoot()) {
                    case FLOAT -> DataType.FLOAT32;
                    case INTEGER -> DataType.INT32;
                    case BIGINT -> DataType.INT64;
                    case TINYINT -> DataType.INT8;
                    case BOOLEAN -> DataType.BOOL;
                    default -> null;
                });
    }

    /** The SQL type that carries {@code dtype} elements, or none (then only BYTES can). */
    static Optional<String> sqlTypeOf(DataType dtype) {
        return Optional.ofNullable(
                switch (dtype) {
                    case FLOAT32 -> "FLOAT";
                    case INT32 -> "INT";
                    case INT64 -> "BIGINT";
                    case INT8 -> "TINYINT";
                    case BOOL -> "BOOLEAN";
                    case FLOAT16, BFLOAT16, UINT8 -> null;
                });
    }

    static TensorForm of(LogicalType type) {
        LogicalTypeRoot root = type.getTypeRoot();
        if (root == LogicalTypeRoot.ARRAY) {
            return ARRAY;
        }
        if (root == LogicalTypeRoot.BINARY || root == LogicalTypeRoot.VARBINARY) {
            return BYTES;
        }
        return SCALAR;
    }

    /** The SQL type a column needs to carry {@code tensor}, for messages. */
    static String suggestion(TensorSpec tensor) {
        return sqlTypeOf(tensor.dtype())
                .map(
                        sql ->
                                tensor.sampleElements() == 1
                                        ? sql + " or ARRAY<" + sql + "> or BYTES"
                                        : "ARRAY<" + sql + "> or BYTES")
                .orElse(
                        "BYTES (raw little-endian "
                                + tensor.dtype()
                                + "; SQL has no such number type)");
    }

    /**
     * The shape a column of {@code type} has, for messages: {@code [1]}, {@code [any]} or bytes.
     */
    static String shapeOf(LogicalType type) {
        return switch (of(type)) {
            case ARRAY -> "[any length, checked per row]";
            case SCALAR -> "[1]";
            case BYTES ->
                    type instanceof BinaryType binary
                            ? binary.getLength() + " bytes"
                            : "any number of bytes, checked per row";
        };
    }

    static LogicalType elementType(LogicalType type) {
        return type instanceof ArrayType array ? array.getElementType() : type;
    }
}
