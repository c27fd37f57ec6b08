package io.flinktrt.text;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.Internal;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A HuggingFace {@code tokenizer.json} bound to a model's text inputs ({@code input_ids}, and
 * {@code attention_mask} and {@code token_type_ids} where the model has them; int64 or int32, one
 * fixed sequence length). Thread-safe: the scheduler's copy threads tokenize rows at once.
 *
 * <p>The tokenizer is read from a local file only; DJL's native library comes from its own jar on
 * the classpath, extracted once per machine to DJL's cache directory ({@code ENGINE_CACHE_DIR} or
 * {@code DJL_CACHE_DIR}, else {@code ~/.djl.ai}): nothing is downloaded.
 */
@Internal
public final class TextTokenizer {

    public static final String INPUT_IDS = "input_ids";
    public static final String ATTENTION_MASK = "attention_mask";
    public static final String TOKEN_TYPE_IDS = "token_type_ids";

    /** Encodes without cutting: the whole count decides between truncating and refusing. */
    private final HuggingFaceTokenizer whole;

    /** Encodes cut at the sequence length the tokenizer's way (special tokens kept). */
    private final HuggingFaceTokenizer cut;

    private final int sequenceLength;
    private final int maxTextTokens;
    private final String limitOption;

    /** Model input index of each of the three, -1 where the model has none. */
    private final int ids;

    private final int mask;
    private final int typeIds;
    private final ModelSignature signature;

    private TextTokenizer(
            Path file,
            ModelSignature signature,
            int maxTextTokens,
            String limitOption,
            int sequenceLength)
            throws IOException {
        this.signature = signature;
        this.limitOption = limitOption;
        this.sequenceLength = sequenceLength;
        this.maxTextTokens = maxTextTokens;
        this.ids = signature.inputIndex(INPUT_IDS);
        this.mask = signature.inputIndex(ATTENTION_MASK);
        this.typeIds = signature.inputIndex(TOKEN_TYPE_IDS);
        // the file's own padding and truncation are overridden: padding is ours, to the model's
        // length
        this.whole =
                HuggingFaceTokenizer.newInstance(
                        file, Map.of("truncation", "false", "padding", "false"));
        String length = Integer.toString(sequenceLength);
        this.cut =
                HuggingFaceTokenizer.newInstance(
                        file,
                        Map.of(
                                "truncation",
                                "true",
                                "maxLength",
                                length,
                                "modelMaxLength",
                                length,
                                "padding",
                                "false"));
    }

    /**
     * The tokenizer for {@code signature}'s text inputs; refuses a model whose inputs are not
     * tokenizer outputs of one fixed length.
     *
     * @param limitOption the option that set {@code maxTextTokens}, named when a text is refused
     */
    public static TextTokenizer open(
            String file, ModelSignature signature, int maxTextTokens, String limitOption)
            throws IOException {
        Path path = Path.of(file);
        if (!Files.isRegularFile(path)) {
            throw new IOException("Tokenizer file " + file + " does not exist on this machine.");
        }
        useTheJarsCpuLibrary();
        return new TextTokenizer(
                path, signature, maxTextTokens, limitOption, sequenceLength(signature));
    }

    /**
     * On a machine with a CUDA driver, DJL picks a CUDA build of its tokenizers library, which its
     * jar lacks, and downloads it (seen on the GPU host: "Cannot download jni files ... cu122-90");
     * tokenizing runs on the CPU anyway. So, unless the user chose otherwise, the CPU library from
     * the jar (RUST_FLAVOR) and no download at all (ai.djl.offline), JVM-wide, before DJL first
     * loads.
     */
    private static void useTheJarsCpuLibrary() {
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    /**
     * The sequence length of {@code signature}'s text inputs; refuses a model whose inputs are not
     * tokenizer outputs (input_ids, and attention_mask and token_type_ids where it has them) of one
     * fixed length.
     */
    public static int sequenceLength(ModelSignature signature) {
        if (signature.inputIndex(INPUT_IDS) < 0) {
            throw new IllegalArgumentException(
                    "Model "
                            + signature.modelName()
                            + " has no input named "
                            + INPUT_IDS
                            + "; a tokenizer feeds input_ids, attention_mask and token_type_ids. Its inputs: "
                            + signature.inputs());
        }
        int length = -1;
        for (TensorSpec input : signature.inputs()) {
            if (!List.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS).contains(input.name())) {
                throw new IllegalArgumentException(
                        "Model input '"
                                + input.name()
                                + "' is not one a tokenizer gives (input_ids, attention_mask, token_type_ids).");
            }
            if (input.sampleShape().length != 1
                    || (input.dtype() != DataType.INT64 && input.dtype() != DataType.INT32)
                    || (length >= 0 && input.sampleShape()[0] != length)) {
                throw new IllegalArgumentException(
                        "Model input '"
                                + input.name()
                                + "' must be int64 or int32 of shape [batch, sequence length], the same"
                                + " length for every text input; it is "
                                + input);
            }
            length = (int) input.sampleShape()[0];
        }
        return length;
    }

    public int sequenceLength() {
        return sequenceLength;
    }

    /**
     * Decodes the text field's bytes, refusing what is not UTF-8 (Avro's own reader would replace
     * such bytes silently) and text that is empty or only white space.
     */
    public static String decode(ByteBuffer utf8) throws RequestRejectedException {
        CharsetDecoder decoder =
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer text;
        try {
            text = decoder.decode(utf8.duplicate());
        } catch (CharacterCodingException e) {
            throw new RequestRejectedException(
                    ErrorCode.INVALID_UTF8, "The request's text is not valid UTF-8: " + e + ".");
        }
        return checkNotBlank(text.toString());
    }

    /** Refuses null (MISSING_TEXT) and empty or white-space text (EMPTY_TEXT). */
    public static String checkNotBlank(String text) throws RequestRejectedException {
        if (text == null) {
            throw new RequestRejectedException(
                    ErrorCode.MISSING_TEXT, "The request carries neither text nor tensors.");
        }
        if (text.isBlank()) {
            throw new RequestRejectedException(
                    ErrorCode.EMPTY_TEXT, "The request's text is empty or only white space.");
        }
        return text;
    }

    /** Tokenizes {@code text}: cut at the model's length, or refused beyond max-text-tokens. */
    public TokenizedText tokenize(String text) throws RequestRejectedException {
        Encoding encoding = cut.encode(text);
        boolean truncated = encoding.exceedMaxLength();
        // the whole count is needed only to refuse a text that was cut
        int tokens =
                truncated && maxTextTokens > 0
                        ? whole.encode(text).getIds().length
                        : encoding.getIds().length;
        if (maxTextTokens > 0 && tokens > maxTextTokens) {
            throw new RequestRejectedException(
                    ErrorCode.TEXT_TOO_LONG,
                    "The text has "
                            + tokens
                            + " tokens; at most "
                            + maxTextTokens
                            + " are taken ("
                            + limitOption
                            + ").");
        }
        return new TokenizedText(
                encoding.getIds(), encoding.getAttentionMask(), encoding.getTypeIds(), truncated);
    }

    /** What a row of a batch of texts is read back as, given the text's tokens. */
    @FunctionalInterface
    public interface RowReader<OUT> {
        OUT read(TokenizedText tokens, BatchBuffers buffers, int row, BatchInfo batch);
    }

    /**
     * A scheduler's codec for records that are a text each: tokenized on the copy threads when they
     * queue (so texts of similar length batch together), rows written by {@link #putRow}, read by
     * {@code reader}.
     */
    public <OUT> RowCodec<PendingText, OUT> rows(RowReader<OUT> reader) {
        return new RowCodec<>() {
            @Override
            public void putRow(PendingText text, BatchBuffers buffers, int row) {
                TextTokenizer.this.putRow(text.tokens(TextTokenizer.this), buffers, row);
            }

            @Override
            public boolean putRowComputes() {
                return true;
            }

            @Override
            public int sequenceLength(PendingText text, int longest) {
                return text.tokens(TextTokenizer.this).ids().length;
            }

            @Override
            public OUT readRow(PendingText text, BatchBuffers buffers, int row, BatchInfo batch) {
                return reader.read(text.tokens(TextTokenizer.this), buffers, row, batch);
            }
        };
    }

    /** Writes the tokens into row {@code row} of the model's text inputs, zero-padded. */
    public void putRow(TokenizedText text, BatchBuffers buffers, int row) {
        put(ids, text.ids(), buffers, row);
        put(mask, text.attentionMask(), buffers, row);
        put(typeIds, text.typeIds(), buffers, row);
    }

    private void put(int input, long[] values, BatchBuffers buffers, int row) {
        if (input < 0) {
            return;
        }
        TensorSpec spec = signature.inputs().get(input);
        ByteBuffer buffer = buffers.input(input);
        int start = row * spec.sampleBytes();
        boolean wide = spec.dtype() == DataType.INT64;
        for (int t = 0; t < sequenceLength; t++) {
            long value = t < values.length ? values[t] : 0L;
            if (wide) {
                buffer.putLong(start + 8 * t, value);
            } else {
                buffer.putInt(start + 4 * t, (int) value);
            }
        }
    }
}
