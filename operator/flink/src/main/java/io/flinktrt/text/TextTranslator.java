package io.flinktrt.text;

import io.flinktrt.answer.RecordAnswer;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.operator.InferenceOptions;
import io.flinktrt.operator.InferenceTranslator;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.function.SerializableFunction;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Runs a text model on your own records (DJL's text translators): each record's text is tokenized
 * with a HuggingFace {@code tokenizer.json} into the model's inputs, and its output becomes an
 * embedding or labels ({@link TextAnswer}). Build the function with {@code
 * InferenceFunction.builder().setModel(...).build(new TextTranslator<>(Event::text, Event::id,
 * settings))}; {@code settings} must ask for an answer (pooling or top-k).
 *
 * <p>Texts are tokenized on the scheduler's copy threads as their rows are written, not on the task
 * thread; a null, empty or too long text gets a {@link TextAnswer} with its error code.
 *
 * @param <IN> your records
 */
@PublicEvolving
public final class TextTranslator<IN>
        implements InferenceTranslator<IN, TextTranslator.Pending, TextAnswer> {

    private static final long serialVersionUID = 1L;

    /** One record checked and waiting for its batch. */
    public record Pending(String id, PendingText text) {}

    private final SerializableFunction<IN, String> textOf;
    private final SerializableFunction<IN, String> idOf;
    private final TextSettings settings;
    private transient TextTokenizer tokenizer;
    private transient TextAnswers answers;

    public TextTranslator(
            SerializableFunction<IN, String> textOf,
            SerializableFunction<IN, String> idOf,
            TextSettings settings) {
        if (!settings.tokenizes() || !settings.answers()) {
            throw new IllegalArgumentException(
                    "A TextTranslator needs a tokenizer file and an answer (pooling or top-k).");
        }
        this.textOf = textOf;
        this.idOf = idOf;
        this.settings = settings;
    }

    @Override
    public void open(ModelSignature signature, String backendName) {
        try {
            tokenizer =
                    TextTokenizer.open(
                            settings.tokenizerFile(),
                            signature,
                            settings.maxTextTokens(),
                            InferenceOptions.MAX_TEXT_TOKENS.key());
            answers = TextAnswers.open(settings, signature);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String routingKey(Pending prepared) {
        return prepared.id();
    }

    @Override
    public Pending prepare(IN input, long arrivalNanos) throws RequestRejectedException {
        return new Pending(
                idOf.apply(input),
                new PendingText(TextTokenizer.checkNotBlank(textOf.apply(input))));
    }

    @Override
    public void putRow(Pending record, BatchBuffers buffers, int row) {
        tokenizer.putRow(record.text().tokens(tokenizer), buffers, row);
    }

    @Override
    public boolean putRowComputes() {
        return true;
    }

    /** Tokenizes it (kept for its row and answer): a batch holds texts of similar length. */
    @Override
    public int sequenceLength(Pending record, int longest) {
        return record.text().tokens(tokenizer).ids().length;
    }

    @Override
    public TextAnswer readRow(Pending record, BatchBuffers buffers, int row, BatchInfo batch) {
        TokenizedText tokens = record.text().tokensIfDone();
        TextAnswers.Answer answer = answers.answer(buffers, row, tokens.attentionMask());
        TextAnswer out = new TextAnswer();
        out.id = record.id();
        out.truncated = tokens.truncated();
        out.embedding = answer.embedding();
        if (answer.labels() != null) {
            out.setTop(answer.labels());
        }
        return out;
    }

    @Override
    public TextAnswer rejected(IN input, RequestRejectedException rejection) {
        return RecordAnswer.failure(
                new TextAnswer(), idOf.apply(input), rejection.code(), rejection.getMessage());
    }

    @Override
    public TextAnswer failed(IN input, Pending prepared, ErrorCode code, String message) {
        return RecordAnswer.failure(new TextAnswer(), prepared.id(), code, message);
    }

    @Override
    public TypeInformation<TextAnswer> getProducedType() {
        return TypeInformation.of(TextAnswer.class);
    }
}
