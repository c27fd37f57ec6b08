package io.flinktrt.sql;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.RowCodec;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

import java.io.IOException;
import java.io.Serializable;

/**
 * How ML_PREDICT's rows become batch rows and back, as planned: tensors column by column ({@link
 * RowTensorCodec}) or a text tokenized into the model's inputs ({@link RowTextCodec}).
 *
 * @param <P> a row checked and waiting for its batch
 */
interface PredictCodec<P> extends RowCodec<P, RowData>, Serializable {

    /** The binding the statement was planned with. */
    PlannedColumns columns();

    /** The model's inputs and outputs as planned. */
    default ModelSignature signature() {
        return columns().signature();
    }

    /** Readies the codec on the task manager, for the model as opened there. */
    void open(ModelSignature opened) throws IOException;

    /** Checks a row when it arrives and prepares it for {@link #putRow}, or says why it is bad. */
    P prepare(RowData row) throws BadRowException;

    /**
     * The OUTPUT row of a bad row: every output null, the reason in the error column if there is
     * one.
     */
    default RowData failedRow(String reason) {
        GenericRowData out = new GenericRowData(columns().outputArity());
        if (columns().errorPosition() >= 0) {
            out.setField(columns().errorPosition(), StringData.fromString(reason));
        }
        return out;
    }
}
