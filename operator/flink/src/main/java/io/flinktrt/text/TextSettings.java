package io.flinktrt.text;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * How requests carrying text become model inputs, and the model's outputs an answer.
 *
 * @param tokenizerFile a HuggingFace {@code tokenizer.json} on every task manager; null: the job
 *     takes tensors only
 * @param maxTextTokens 0: a text longer than the model's sequence length is cut there (the result
 *     says {@code truncated}); N: a text of more than N tokens is refused as TEXT_TOO_LONG
 * @param pooling NONE: raw outputs; MEAN or CLS: an embedding from the answer output
 * @param normalize L2-normalise the embedding
 * @param topK 0: no labels; K: softmax over the answer output, the K most probable labels
 * @param labelsFile one label per line, in the order of the classifier's outputs (with topK)
 * @param answerOutput the output the answer is made from; null: the model's first output
 */
@PublicEvolving
public record TextSettings(
        String tokenizerFile,
        int maxTextTokens,
        Pooling pooling,
        boolean normalize,
        int topK,
        String labelsFile,
        String answerOutput)
        implements Serializable {

    /** Tensors in, tensors out: no tokenizer, no answer. */
    public static final TextSettings NONE =
            new TextSettings(null, 0, Pooling.NONE, false, 0, null, null);

    /** How a sequence of hidden states [tokens, hidden] becomes one embedding. */
    @PublicEvolving
    public enum Pooling {
        /** No embedding: the result carries the raw outputs (or labels, with top-k). */
        NONE,
        /** The mean over the tokens the attention mask marks (sentence-transformers' default). */
        MEAN,
        /** The first token's ([CLS]) hidden state. */
        CLS
    }

    public boolean tokenizes() {
        return tokenizerFile != null;
    }

    /** Whether results carry an answer (embedding or labels) instead of raw outputs. */
    public boolean answers() {
        return pooling != Pooling.NONE || topK > 0;
    }
}
