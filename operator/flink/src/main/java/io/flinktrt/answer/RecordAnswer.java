package io.flinktrt.answer;

import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.LabelScore;

import org.apache.flink.annotation.PublicEvolving;

import java.util.List;

/**
 * What a ready translator emits for a user's record (a Flink POJO): the record's id, the top labels
 * with their scores where the model classifies, or, for a record that got no answer, the error code
 * and why. Text and image answers add what is their own.
 */
@PublicEvolving
public class RecordAnswer {

    /** The record's id, as the translator's id function gave it. */
    public String id;

    /** The top K labels, most probable first (with top-k), else null. */
    public String[] labels;

    /** The softmax probability of each of {@link #labels}. */
    public float[] scores;

    /** Null for an answer; else the ErrorCode's name (EMPTY_TEXT, INVALID_IMAGE, TIMEOUT, ...). */
    public String error;

    /** Why there is no answer; null for an answer. */
    public String message;

    public boolean failed() {
        return error != null;
    }

    /** Sets the labels and scores from the top-k, most probable first. */
    public void setTop(List<LabelScore> top) {
        labels = TopLabels.names(top);
        scores = TopLabels.scores(top);
    }

    /** {@code answer} made the one of record {@code id}, which got none: {@code code}, and why. */
    public static <A extends RecordAnswer> A failure(
            A answer, String id, ErrorCode code, String message) {
        answer.id = id;
        answer.error = code.name();
        answer.message = message;
        return answer;
    }
}
