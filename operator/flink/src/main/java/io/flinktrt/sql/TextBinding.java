package io.flinktrt.sql;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.text.TextAnswers;
import io.flinktrt.text.TextSettings;
import io.flinktrt.text.TextTokenizer;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A text model's columns: one STRING INPUT column tokenized with 'tokenizer' into the model's
 * input_ids (attention_mask, token_type_ids), and OUTPUT columns that are answers (an embedding, or
 * labels with their scores) rather than tensors. Every mismatch between columns, options and model
 * is refused here, when the statement is planned.
 *
 * @param embedding (and the others) the position of that OUTPUT column, -1 where there is none
 */
record TextBinding(
        ModelSignature signature,
        String textColumn,
        TextSettings settings,
        int embedding,
        int label,
        int score,
        int labels,
        int scores,
        int truncated,
        int errorPosition,
        int outputArity)
        implements PlannedColumns, Serializable {

    static final String EMBEDDING = "embedding";
    static final String LABEL = LabelColumns.LABEL;
    static final String SCORE = LabelColumns.SCORE;
    static final String LABELS = LabelColumns.LABELS;
    static final String SCORES = LabelColumns.SCORES;
    static final String TRUNCATED = "truncated";

    /** The options that only a text model takes. */
    static final List<ConfigOption<?>> TEXT_OPTIONS =
            List.of(
                    ModelProviderOptions.TOKENIZER,
                    ModelProviderOptions.MAX_TEXT_TOKENS,
                    ModelProviderOptions.POOLING,
                    ModelProviderOptions.NORMALIZE,
                    ModelProviderOptions.TOP_K,
                    ModelProviderOptions.LABELS,
                    ModelProviderOptions.ANSWER_OUTPUT);

    private static final Map<String, String> ANSWER_TYPES =
            Map.of(
                    EMBEDDING, "ARRAY<FLOAT>",
                    LABEL, "STRING",
                    SCORE, "FLOAT",
                    LABELS, "ARRAY<STRING>",
                    SCORES, "ARRAY<FLOAT>",
                    TRUNCATED, "BOOLEAN");

    /** Whether the model is a text model: 'tokenizer' is set, or an INPUT column is STRING. */
    static boolean isText(ResolvedSchema input, ReadableConfig options) {
        return options.getOptional(ModelProviderOptions.TOKENIZER).isPresent()
                || input.getColumns().stream().anyMatch(TextBinding::isString);
    }

    /** Refuses the text options on a model that takes tensors. */
    static void refuseTextOptions(ReadableConfig options) {
        for (ConfigOption<?> option : TEXT_OPTIONS) {
            if (options.getOptional(option).isPresent()) {
                throw new ValidationException(
                        String.format(
                                "'%s' applies to a text model only (INPUT one STRING column, with"
                                        + " '%s'); this model's INPUT columns are tensors. Remove '%s'.",
                                option.key(), ModelProviderOptions.TOKENIZER.key(), option.key()));
            }
        }
    }

    static TextBinding of(
            ResolvedSchema input,
            ResolvedSchema output,
            ModelSignature signature,
            ReadableConfig options,
            String errorColumn,
            ErrorHandlingStrategy strategy) {
        String tokenizer = options.getOptional(ModelProviderOptions.TOKENIZER).orElse(null);
        List<Column> inputs = input.getColumns();
        if (inputs.size() != 1 || !isString(inputs.get(0))) {
            throw new ValidationException(
                    tokenizer == null
                            ? String.format(
                                    "Model INPUT %s has a STRING column: a text model takes exactly one"
                                            + " STRING column (the text), tokenized with '%s'; a tensor is"
                                            + " ARRAY<number> or BYTES.",
                                    describe(inputs), ModelProviderOptions.TOKENIZER.key())
                            : String.format(
                                    "'%s' is set, so INPUT must be exactly one STRING column (the text);"
                                            + " it is %s.",
                                    ModelProviderOptions.TOKENIZER.key(), describe(inputs)));
        }
        String textColumn = inputs.get(0).getName();
        if (tokenizer == null) {
            throw new ValidationException(
                    String.format(
                            "Model INPUT column '%s' is STRING, which no tensor takes: set '%s' to a"
                                    + " HuggingFace tokenizer.json, which turns the text into the model's"
                                    + " input_ids, attention_mask and token_type_ids.",
                            textColumn, ModelProviderOptions.TOKENIZER.key()));
        }
        if (!Files.isRegularFile(Path.of(tokenizer))) {
            throw new ValidationException(
                    String.format(
                            "'%s' names %s, which does not exist where the statement is planned; it"
                                    + " must be readable here and on every task manager.",
                            ModelProviderOptions.TOKENIZER.key(),
                            Path.of(tokenizer).toAbsolutePath()));
        }
        try {
            TextTokenizer.sequenceLength(signature);
        } catch (IllegalArgumentException e) {
            throw new ValidationException(
                    String.format(
                            "Model INPUT column '%s' is text, tokenized with '%s': %s",
                            textColumn, ModelProviderOptions.TOKENIZER.key(), e.getMessage()),
                    e);
        }
        int maxTextTokens = options.get(ModelProviderOptions.MAX_TEXT_TOKENS);
        if (maxTextTokens < 0) {
            throw new ValidationException(
                    String.format(
                            "'%s' must be 0 (cut at the model's length) or positive, not %d.",
                            ModelProviderOptions.MAX_TEXT_TOKENS.key(), maxTextTokens));
        }

        int errorPosition = ModelBinding.errorPosition(output, errorColumn);
        List<String> names = output.getColumnNames();
        for (int i = 0; i < names.size(); i++) {
            if (i != errorPosition) {
                checkAnswerColumn(output.getColumns().get(i), errorColumn);
            }
        }
        ModelBinding.checkNullable(output, strategy);
        boolean embeds = names.contains(EMBEDDING);
        boolean classifies =
                names.stream().anyMatch(List.of(LABEL, SCORE, LABELS, SCORES)::contains);
        TextSettings.Pooling pooling = options.get(ModelProviderOptions.POOLING);
        String labelsFile = options.getOptional(ModelProviderOptions.LABELS).orElse(null);
        if (embeds == classifies) {
            throw new ValidationException(
                    String.format(
                            "Model OUTPUT %s must have either '%s' ARRAY<FLOAT> (with '%s') or the labels"
                                    + " columns '%s' STRING, '%s' FLOAT, '%s' ARRAY<STRING>, '%s' ARRAY<FLOAT>"
                                    + " (with '%s'), not %s.",
                            names,
                            EMBEDDING,
                            ModelProviderOptions.POOLING.key(),
                            LABEL,
                            SCORE,
                            LABELS,
                            SCORES,
                            ModelProviderOptions.LABELS.key(),
                            embeds ? "both" : "neither"));
        }
        if (embeds != (pooling != TextSettings.Pooling.NONE)) {
            throw new ValidationException(
                    embeds
                            ? String.format(
                                    "Model OUTPUT column '%s' needs '%s' = 'mean' or 'cls'.",
                                    EMBEDDING, ModelProviderOptions.POOLING.key())
                            : String.format(
                                    "'%s' is set, but OUTPUT has no column '%s' ARRAY<FLOAT> to take the"
                                            + " embedding.",
                                    ModelProviderOptions.POOLING.key(), EMBEDDING));
        }
        if (!embeds && options.get(ModelProviderOptions.NORMALIZE)) {
            throw new ValidationException(
                    String.format(
                            "'%s' normalises an embedding, but OUTPUT has no column '%s'.",
                            ModelProviderOptions.NORMALIZE.key(), EMBEDDING));
        }
        if (classifies != (labelsFile != null)) {
            throw new ValidationException(
                    classifies
                            ? String.format(
                                    "Model OUTPUT columns %s need '%s', a file of the classifier's label names.",
                                    names.stream()
                                            .filter(List.of(LABEL, SCORE, LABELS, SCORES)::contains)
                                            .toList(),
                                    ModelProviderOptions.LABELS.key())
                            : String.format(
                                    "'%s' is set, but OUTPUT has none of the columns '%s', '%s', '%s', '%s'"
                                            + " to take the labels.",
                                    ModelProviderOptions.LABELS.key(),
                                    LABEL,
                                    SCORE,
                                    LABELS,
                                    SCORES));
        }
        int topK = options.get(ModelProviderOptions.TOP_K);
        if (topK < 1) {
            throw new ValidationException(
                    String.format(
                            "'%s' must be at least 1, not %d.",
                            ModelProviderOptions.TOP_K.key(), topK));
        }
        TextSettings settings =
                new TextSettings(
                        tokenizer,
                        maxTextTokens,
                        pooling,
                        options.get(ModelProviderOptions.NORMALIZE),
                        classifies ? topK : 0,
                        labelsFile,
                        options.getOptional(ModelProviderOptions.ANSWER_OUTPUT).orElse(null));
        try {
            TextAnswers.open(settings, signature);
        } catch (IOException | IllegalArgumentException e) {
            throw new ValidationException(
                    "Model OUTPUT "
                            + names
                            + " cannot be made from the model's outputs "
                            + signature.outputs()
                            + ": "
                            + e.getMessage(),
                    e);
        }
        return new TextBinding(
                signature,
                textColumn,
                settings,
                names.indexOf(EMBEDDING),
                names.indexOf(LABEL),
                names.indexOf(SCORE),
                names.indexOf(LABELS),
                names.indexOf(SCORES),
                names.indexOf(TRUNCATED),
                errorPosition,
                names.size());
    }

    private static void checkAnswerColumn(Column column, String errorColumn) {
        String expected = ANSWER_TYPES.get(column.getName());
        if (expected == null) {
            throw new ValidationException(
                    String.format(
                            "Model OUTPUT column '%s' is none that a text model gives: with '%s', OUTPUT"
                                    + " takes %s (by these names), and the error column '%s' STRING.",
                            column.getName(),
                            ModelProviderOptions.TOKENIZER.key(),
                            List.of(EMBEDDING, LABEL, SCORE, LABELS, SCORES, TRUNCATED).stream()
                                    .map(name -> name + " " + ANSWER_TYPES.get(name))
                                    .collect(Collectors.joining(", ")),
                            errorColumn));
        }
        LogicalType type = column.getDataType().getLogicalType();
        if (!typeName(type).equals(expected)) {
            throw new ValidationException(
                    String.format(
                            "Model OUTPUT column '%s' must be %s, not %s.",
                            column.getName(), expected, type.asSummaryString()));
        }
    }

    /** The type as the answer types are named: STRING, FLOAT, BOOLEAN, ARRAY<...>. */
    static String typeName(LogicalType type) {
        if (type instanceof ArrayType array) {
            return "ARRAY<" + typeName(array.getElementType()) + ">";
        }
        if (type.is(LogicalTypeFamily.CHARACTER_STRING)) {
            return "STRING";
        }
        return type.getTypeRoot() == LogicalTypeRoot.FLOAT
                ? "FLOAT"
                : type.getTypeRoot() == LogicalTypeRoot.BOOLEAN
                        ? "BOOLEAN"
                        : type.asSummaryString();
    }

    private static boolean isString(Column column) {
        return column.getDataType().getLogicalType().is(LogicalTypeFamily.CHARACTER_STRING);
    }

    private static String describe(List<Column> columns) {
        return columns.stream()
                .map(c -> c.getName() + " " + c.getDataType().getLogicalType().asSummaryString())
                .collect(Collectors.joining(", ", "(", ")"));
    }
}
