package io.flinktrt.sql;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.text.PendingText;
import io.flinktrt.text.TextAnswers;
import io.flinktrt.text.TextTokenizer;
import io.flinktrt.text.TokenizedText;

import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

import java.io.IOException;

/**
 * A text model's rows: the STRING column is checked when the row arrives (null, empty), tokenized
 * when its row is written into the batch, on the slot's copy threads ({@link #putRowComputes}), and
 * the model's output read back as an embedding or labels ({@link TextAnswers}). A text longer than
 * 'max-text-tokens' is found when tokenized and fails its row alone.
 *
 * <p>A Flink STRING is always valid Unicode (the JSON and Avro formats decode or replace bytes
 * before a row exists), so INVALID_UTF8, which the Avro request path reports, cannot occur here.
 */
final class RowTextCodec implements PredictCodec<PendingText> {

    private static final long serialVersionUID = 1L;

    private final TextBinding binding;
    private transient TextTokenizer tokenizer;
    private transient TextAnswers answers;

    RowTextCodec(TextBinding binding) {
        this.binding = binding;
    }

    /** A bad text's reason as the error column shows it: its code, then why. */
    static String reason(ErrorCode code, String message) {
        return code.name() + ": " + message;
    }

    @Override
    public PlannedColumns columns() {
        return binding;
    }

    @Override
    public void open(ModelSignature opened) throws IOException {
        tokenizer =
                TextTokenizer.open(
                        binding.settings().tokenizerFile(),
                        opened,
                        binding.settings().maxTextTokens(),
                        "'" + ModelProviderOptions.MAX_TEXT_TOKENS.key() + "'");
        answers = TextAnswers.open(binding.settings(), opened);
    }

    @Override
    public PendingText prepare(RowData row) throws BadRowException {
        String column = "INPUT column '" + binding.textColumn() + "'";
        if (row.isNullAt(0)) {
            throw new BadRowException(reason(ErrorCode.MISSING_TEXT, column + " is null"));
        }
        try {
            return new PendingText(TextTokenizer.checkNotBlank(row.getString(0).toString()));
        } catch (RequestRejectedException e) {
            throw new BadRowException(reason(e.code(), column + " is empty or only white space"));
        }
    }

    @Override
    public void putRow(PendingText text, BatchBuffers buffers, int row) {
        tokenizer.putRow(text.tokens(tokenizer), buffers, row);
    }

    @Override
    public boolean putRowComputes() {
        return true;
    }

    /** Tokenizes it (kept for its row and answer): a batch holds texts of similar length. */
    @Override
    public int sequenceLength(PendingText text, int longest) {
        return text.tokens(tokenizer).ids().length;
    }

    @Override
    public RowData readRow(PendingText text, BatchBuffers buffers, int row, BatchInfo batch) {
        TokenizedText tokens = text.tokensIfDone();
        TextAnswers.Answer answer = answers.answer(buffers, row, tokens.attentionMask());
        GenericRowData out = new GenericRowData(binding.outputArity());
        if (binding.embedding() >= 0) {
            out.setField(binding.embedding(), new GenericArrayData(answer.embedding()));
        }
        if (answer.labels() != null) {
            LabelColumns.write(
                    answer.labels(),
                    out,
                    binding.label(),
                    binding.score(),
                    binding.labels(),
                    binding.scores());
        }
        if (binding.truncated() >= 0) {
            out.setField(binding.truncated(), tokens.truncated());
        }
        return out;
    }
}
