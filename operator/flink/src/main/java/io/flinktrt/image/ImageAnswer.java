package io.flinktrt.image;

import io.flinktrt.answer.RecordAnswer;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;

/**
 * What {@link ImageTranslator} emits for each record (a Flink POJO): the top labels with their
 * scores, or, for a record that got none, the error code and why.
 */
@PublicEvolving
public class ImageAnswer extends RecordAnswer {

    public ImageAnswer() {}

    @Override
    public String toString() {
        return failed()
                ? id + ": " + error + " (" + message + ")"
                : id + ": " + Arrays.toString(labels) + " " + Arrays.toString(scores);
    }
}
