package io.flinktrt.text;

import io.flinktrt.answer.RecordAnswer;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;

/**
 * What {@link TextTranslator} emits for each record (a Flink POJO): an embedding or labels with
 * their scores, or, for a record that got none, the error code and why.
 */
@PublicEvolving
public class TextAnswer extends RecordAnswer {

    /** The pooled embedding (with pooling), else null. */
    public float[] embedding;

    /** The text had more tokens than the model takes and was cut. */
    public boolean truncated;

    public TextAnswer() {}

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
