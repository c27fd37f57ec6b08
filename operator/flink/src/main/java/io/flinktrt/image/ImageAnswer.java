package io.flinktrt.image;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;

/**
 * What {@link ImageTranslator} emits for each record (a Flink POJO): the top labels with their
 * scores, or, for a record that got none, the error code and why.
 */
@PublicEvolving
public class ImageAnswer {

    /** The record's id, as the translator's id function gave it. */
    public String id;

    /** The top K labels, most probable first. */
    public String[] labels;

    /** The softmax probability of each of {@link #labels}. */
    public float[] scores;

    /** Null for an answer; else the ErrorCode's name (INVALID_IMAGE, IMAGE_TOO_LARGE, ...). */
    public String error;

    /** Why there is no answer; null for an answer. */
    public String message;

    public ImageAnswer() {}

    public boolean failed() {
        return error != null;
    }

    @Override
    public String toString() {
        return failed()
                ? id + ": " + error + " (" + message + ")"
                : id + ": " + Arrays.toString(labels) + " " + Arrays.toString(scores);
    }
}
