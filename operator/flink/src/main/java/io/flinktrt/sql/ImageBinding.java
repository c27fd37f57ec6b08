package io.flinktrt.sql;

import io.flinktrt.answer.AnswerOutput;
import io.flinktrt.answer.TopLabels;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.image.ImageDecoder;
import io.flinktrt.image.ImageSettings;

import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalTypeFamily;

import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * An image classifier's columns ('image' = 'true'): one BYTES INPUT column holding a JPEG or PNG,
 * decoded into the model's only input, and OUTPUT columns that are the top labels. Every mismatch
 * between columns, options and model is refused here, when the statement is planned.
 *
 * @param label (and the others) the position of that OUTPUT column, -1 where there is none
 */
record ImageBinding(
        ModelSignature signature,
        String imageColumn,
        ImageSettings settings,
        int topK,
        String labelsFile,
        String answerOutput,
        int label,
        int score,
        int labels,
        int scores,
        int errorPosition,
        int outputArity)
        implements PlannedColumns, Serializable {

    private static final Map<String, String> ANSWER_TYPES =
            Map.of(
                    LabelColumns.LABEL, "STRING",
                    LabelColumns.SCORE, "FLOAT",
                    LabelColumns.LABELS, "ARRAY<STRING>",
                    LabelColumns.SCORES, "ARRAY<FLOAT>");

    static ImageBinding of(
            ResolvedSchema input,
            ResolvedSchema output,
            ModelSignature signature,
            ReadableConfig options,
            String errorColumn,
            ErrorHandlingStrategy strategy) {
        List<Column> inputs = input.getColumns();
        if (inputs.size() != 1
                || !inputs.get(0)
                        .getDataType()
                        .getLogicalType()
                        .is(LogicalTypeFamily.BINARY_STRING)) {
            throw new ValidationException(
                    String.format(
                            "'%s' is set, so INPUT must be exactly one BYTES column (the encoded image);"
                                    + " it is %s.",
                            ModelProviderOptions.IMAGE.key(), input.getColumnNames()));
        }
        ImageSettings settings;
        try {
            settings =
                    new ImageSettings(
                            null,
                            options.get(ModelProviderOptions.IMAGE_MEAN),
                            options.get(ModelProviderOptions.IMAGE_STD),
                            options.get(ModelProviderOptions.MAX_IMAGE_PIXELS));
        } catch (IllegalArgumentException e) {
            throw new ValidationException(e.getMessage(), e);
        }
        if (signature.inputs().size() != 1 || ImageDecoder.open(settings, signature) == null) {
            throw new ValidationException(
                    String.format(
                            "'%s' feeds a model whose only input is an image, uint8 [batch, height, width,"
                                    + " 3] or float32 [batch, 3, height, width]; this model's inputs are %s.",
                            ModelProviderOptions.IMAGE.key(), signature.inputs()));
        }
        int errorPosition = ModelBinding.errorPosition(output, errorColumn);
        List<String> names = output.getColumnNames();
        for (int i = 0; i < names.size(); i++) {
            Column column = output.getColumns().get(i);
            String expected = ANSWER_TYPES.get(column.getName());
            String type = TextBinding.typeName(column.getDataType().getLogicalType());
            if (i != errorPosition && !type.equals(expected)) {
                throw new ValidationException(
                        String.format(
                                "Model OUTPUT column '%s' %s is none that an image model gives: OUTPUT takes"
                                        + " %s (by these names), and the error column '%s' STRING.",
                                column.getName(), type, ANSWER_TYPES, errorColumn));
            }
        }
        ModelBinding.checkNullable(output, strategy);
        String labelsFile = options.getOptional(ModelProviderOptions.LABELS).orElse(null);
        int topK = options.get(ModelProviderOptions.TOP_K);
        String answerOutput = options.getOptional(ModelProviderOptions.ANSWER_OUTPUT).orElse(null);
        try {
            int answer = AnswerOutput.index(signature, answerOutput);
            TopLabels.open(topK, labelsFile, signature.outputs().get(answer));
        } catch (IOException | IllegalArgumentException e) {
            throw new ValidationException(
                    "Model OUTPUT "
                            + names
                            + " cannot be made from the model's outputs "
                            + signature.outputs()
                            + " ('labels' and 'top-k' name them): "
                            + e.getMessage(),
                    e);
        }
        return new ImageBinding(
                signature,
                inputs.get(0).getName(),
                settings,
                topK,
                labelsFile,
                answerOutput,
                names.indexOf(LabelColumns.LABEL),
                names.indexOf(LabelColumns.SCORE),
                names.indexOf(LabelColumns.LABELS),
                names.indexOf(LabelColumns.SCORES),
                errorPosition,
                names.size());
    }
}
