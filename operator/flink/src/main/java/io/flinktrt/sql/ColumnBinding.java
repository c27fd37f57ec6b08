package io.flinktrt.sql;

import io.flinktrt.backend.TensorSpec;

import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.types.logical.BinaryType;
import org.apache.flink.table.types.logical.LogicalType;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One model column bound to one tensor, checked when the statement is planned.
 *
 * @param position the column's position in the model's INPUT (or OUTPUT) schema, which is its field
 *     in the rows the predict function takes (or gives)
 * @param tensorIndex the tensor's position in the model's signature (its batch buffer)
 */
record ColumnBinding(
        String column,
        int position,
        LogicalType type,
        TensorForm form,
        TensorSpec tensor,
        int tensorIndex)
        implements Serializable {

    /**
     * Binds a column to a tensor, or refuses with a message naming both, their types and shapes.
     */
    static ColumnBinding bind(
            String side,
            String column,
            int position,
            LogicalType type,
            TensorSpec tensor,
            int tensorIndex) {
        TensorForm form = TensorForm.of(type);
        String refusal = refusal(form, type, tensor);
        if (refusal != null) {
            throw new ValidationException(
                    String.format(
                            "Model %s column '%s' (%s, shape %s) does not fit tensor '%s' (%s, sample shape %s, %d bytes"
                                    + " per row): %s. Declare the column as %s.",
                            side,
                            column,
                            type.asSummaryString(),
                            TensorForm.shapeOf(type),
                            tensor.name(),
                            tensor.dtype(),
                            Arrays.toString(tensor.sampleShape()),
                            tensor.sampleBytes(),
                            refusal,
                            TensorForm.suggestion(tensor)));
        }
        return new ColumnBinding(column, position, type, form, tensor, tensorIndex);
    }

    private static String refusal(TensorForm form, LogicalType type, TensorSpec tensor) {
        if (form == TensorForm.BYTES) {
            return type instanceof BinaryType binary && binary.getLength() != tensor.sampleBytes()
                    ? "the byte lengths differ"
                    : null;
        }
        LogicalType element = TensorForm.elementType(type);
        var dtype = TensorForm.dtypeOf(element);
        if (dtype.isEmpty()) {
            return "the engines take no " + element.asSummaryString() + " elements";
        }
        if (dtype.get() != tensor.dtype()) {
            return element.asSummaryString()
                    + " elements are "
                    + dtype.get()
                    + ", not "
                    + tensor.dtype();
        }
        if (form == TensorForm.SCALAR && tensor.sampleElements() != 1) {
            return "a scalar column carries one element, the tensor has "
                    + tensor.sampleElements()
                    + " per row";
        }
        return null;
    }

    /** Where this column's sample starts in its batch buffer. */
    int offset(int row) {
        return row * tensor.sampleBytes();
    }
}
