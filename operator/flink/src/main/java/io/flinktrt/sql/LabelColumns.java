package io.flinktrt.sql;

import io.flinktrt.schema.LabelScore;

import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.StringData;

import java.util.List;

/** Writes a classifier's top labels into the OUTPUT columns of a text or image model. */
final class LabelColumns {

    static final String LABEL = "label";
    static final String SCORE = "score";
    static final String LABELS = "labels";
    static final String SCORES = "scores";

    private LabelColumns() {}

    /**
     * {@code label}, {@code score}: the first label and its score; {@code labels}, {@code scores}:
     * all of them; each the column's position in OUTPUT, -1 where there is none.
     */
    static void write(
            List<LabelScore> top,
            GenericRowData out,
            int label,
            int score,
            int labels,
            int scores) {
        if (label >= 0) {
            out.setField(label, StringData.fromString(top.get(0).getLabel()));
        }
        if (score >= 0) {
            out.setField(score, top.get(0).getScore());
        }
        if (labels >= 0) {
            out.setField(
                    labels,
                    new GenericArrayData(
                            top.stream().map(l -> StringData.fromString(l.getLabel())).toArray()));
        }
        if (scores >= 0) {
            float[] values = new float[top.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = top.get(i).getScore();
            }
            out.setField(scores, new GenericArrayData(values));
        }
    }
}
