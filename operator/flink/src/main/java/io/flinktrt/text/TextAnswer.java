package io.flinktrt.text;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;

/**
 * What {@link TextTranslator} emits for each record (a Flink POJO): an embedding or labels with
 * their scores, or, for a record that got none, the error code and why.
 */
@PublicEvolving
public class TextAnswer {

    /** The record's id, as the translator's id function gave it. */
    public String id;

    /** The pooled embedding (with pooling), else null. */
    public float[] embedding;

    /** The top K labels, most probable first (with top-k), else null. */
    public String[] labels;

    /** The softmax probability of each of {@link #labels}. */
    public float[] scores;

    /** The text had more tokens than the model takes and was cut. */
    public boolean truncated;

    /** Null for an answer; else the ErrorCode's name (EMPTY_TEXT, TEXT_TOO_LONG, TIMEOUT, ...). */
    public String error;

    /** Why there is no answer; null for an answer. */
    public String message;

    public TextAnswer() {}

    public boolean failed() {
        return error != null;
    }

    @Override
    public String toString() {
        return failed()
                ? id + ": " + error + " (" + message + ")"
                : id
                        + ": "
                        + (embedding != null
                                ? Arrays.toString(embedding)
                                : Arrays.toString(labels) + " " + Arrays.toString(scores))
                        + (truncated ? " (truncated)" : "");
    }
}
