package io.flinktrt.sql;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;

import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How a model's INPUT and OUTPUT columns map to its tensors. Columns match tensors by name when
 * every column is named after a tensor, else by position; every mismatch is refused here, when the
 * statement is planned, never on the first row.
 *
 * @param errorPosition the error column's position in OUTPUT, or -1 when there is none
 * @param outputArity the number of OUTPUT columns
 */
record ModelBinding(
        ModelSignature signature,
        List<ColumnBinding> inputs,
        List<ColumnBinding> outputs,
        int errorPosition,
        int outputArity)
        implements PlannedColumns, Serializable {

    static ModelBinding of(
            ResolvedSchema input,
            ResolvedSchema output,
            ModelSignature signature,
            String errorColumn,
            ErrorHandlingStrategy strategy) {
        List<Column> inputColumns = input.getColumns();
        List<Column> outputColumns = output.getColumns();
        List<ColumnBinding> inputs = bindAll("INPUT", inputColumns, signature.inputs(), true);
        int errorPosition = errorPosition(output, errorColumn);
        List<Column> tensorOutputs = new ArrayList<>(outputColumns);
        if (errorPosition >= 0) {
            tensorOutputs.remove(errorPosition);
        }
        List<ColumnBinding> outputs =
                bindAll("OUTPUT", tensorOutputs, signature.outputs(), false).stream()
                        .map(
                                b ->
                                        new ColumnBinding(
                                                b.column(),
                                                output.getColumnNames().indexOf(b.column()),
                                                b.type(),
                                                b.form(),
                                                b.tensor(),
                                                b.tensorIndex()))
                        .toList();
        checkNullable(output, strategy);
        return new ModelBinding(signature, inputs, outputs, errorPosition, outputColumns.size());
    }

    /** The error column's position in OUTPUT (-1 without one); it must be STRING. */
    static int errorPosition(ResolvedSchema output, String errorColumn) {
        int position = output.getColumnNames().indexOf(errorColumn);
        if (position >= 0) {
            LogicalType type = output.getColumns().get(position).getDataType().getLogicalType();
            if (!type.is(LogicalTypeFamily.CHARACTER_STRING)) {
                throw new ValidationException(
                        String.format(
                                "Model OUTPUT column '%s' is the error column"
                                        + " ('%s'), so it must be STRING, not %s.",
                                errorColumn,
                                ModelProviderOptions.ERROR_COLUMN.key(),
                                type.asSummaryString()));
            }
        }
        return position;
    }

    /** Under EMIT a bad row has null outputs, so no OUTPUT column may be NOT NULL. */
    static void checkNullable(ResolvedSchema output, ErrorHandlingStrategy strategy) {
        if (strategy != ErrorHandlingStrategy.EMIT) {
            return;
        }
        for (Column column : output.getColumns()) {
            if (!column.getDataType().getLogicalType().isNullable()) {
                throw new ValidationException(
                        String.format(
                                "Model OUTPUT column '%s' is NOT NULL, but with"
                                        + " '%s' = 'EMIT' a bad row is emitted with null outputs. Drop NOT NULL, or set"
                                        + " '%s' = 'FAILOVER'.",
                                column.getName(),
                                ModelProviderOptions.ERROR_HANDLING_STRATEGY.key(),
                                ModelProviderOptions.ERROR_HANDLING_STRATEGY.key()));
            }
        }
    }

    /**
     * By name when every column is named after a tensor; else by position when the counts are equal
     * and no column is named after another position's tensor (that would be a silent swap).
     */
    private static List<ColumnBinding> bindAll(
            String side, List<Column> columns, List<TensorSpec> tensors, boolean everyTensor) {
        List<String> tensorNames = tensors.stream().map(TensorSpec::name).toList();
        List<String> columnNames = columns.stream().map(Column::getName).toList();
        List<ColumnBinding> bindings = new ArrayList<>();
        if (tensorNames.containsAll(columnNames)) {
            Set<String> unfed =
                    tensorNames.stream()
                            .filter(t -> !columnNames.contains(t))
                            .collect(Collectors.toSet());
            if (everyTensor && !unfed.isEmpty()) {
                throw new ValidationException(
                        String.format(
                                "Model %s has no column for tensor(s) %s; the model"
                                        + " takes %s. Add a column named after each.",
                                side, unfed, describe(tensors)));
            }
            for (int i = 0; i < columns.size(); i++) {
                int tensor = tensorNames.indexOf(columnNames.get(i));
                bindings.add(bind(side, columns.get(i), i, tensors.get(tensor), tensor));
            }
            return bindings;
        }
        if (columns.size() != tensors.size()) {
            throw new ValidationException(
                    String.format(
                            "Model %s columns %s match neither the names nor the"
                                    + " number of the model's %s tensors %s. Name each column after its tensor, or declare one"
                                    + " column per tensor in the model's order.",
                            side, columnNames, side.toLowerCase(), describe(tensors)));
        }
        for (int i = 0; i < columns.size(); i++) {
            int named = tensorNames.indexOf(columnNames.get(i));
            if (named >= 0 && named != i) {
                throw new ValidationException(
                        String.format(
                                "Model %s column '%s' is at position %d but tensor"
                                        + " '%s' is at position %d of %s: columns that do not all match tensor names are matched"
                                        + " by position. Name every column after its tensor, or put them in the model's order.",
                                side,
                                columnNames.get(i),
                                i + 1,
                                tensorNames.get(named),
                                named + 1,
                                describe(tensors)));
            }
            bindings.add(bind(side, columns.get(i), i, tensors.get(i), i));
        }
        return bindings;
    }

    private static ColumnBinding bind(
            String side, Column column, int position, TensorSpec tensor, int index) {
        return ColumnBinding.bind(
                side,
                column.getName(),
                position,
                column.getDataType().getLogicalType(),
                tensor,
                index);
    }

    private static String describe(List<TensorSpec> tensors) {
        return tensors.stream()
                .map(TensorSpec::toString)
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
