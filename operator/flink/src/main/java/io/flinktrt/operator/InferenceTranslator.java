package io.flinktrt.operator;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.wire.AvroRequestTranslator;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;

import java.io.Serializable;

/**
 * Turns the stream's records into rows of a model's batches and the batches' outputs back into
 * records (DJL's {@code Translator}): the one piece a user writes to run a model on their own types
 * with {@link InferenceFunction}. A copy is opened per subtask; {@link #prepare} runs on the task
 * thread, the {@link RowCodec} methods on the operator's batch threads.
 *
 * <p>Every input record gets exactly one output record: {@link #readRow} for a result, or {@link
 * #rejected} / {@link #failed} when it cannot have one. {@link AvroRequestTranslator} (our Kafka
 * wire format) is one implementation.
 *
 * @param <IN> the records the operator takes
 * @param <P> one record checked and ready to run (what {@link #putRow} copies from)
 * @param <OUT> the records the operator emits, results and failures alike
 */
@PublicEvolving
public interface InferenceTranslator<IN, P, OUT>
        extends RowCodec<P, OUT>, ResultTypeQueryable<OUT>, Serializable {

    /** Called once per subtask, with the opened model, before any record. */
    default void open(ModelSignature signature, String backendName) {}

    /**
     * Called once per model version a subtask opens, on a copy of this translator for that version,
     * before any record: what its outputs should say of the model that made them. By default {@link
     * #open(ModelSignature, String)}.
     */
    default void open(ModelSignature signature, String backendName, ServedModel model) {
        open(signature, backendName);
    }

    /**
     * The record's id, by which a canary version takes its share of the records (the same id, the
     * same version, on every subtask and after every restart); null sends it to the primary
     * version.
     */
    default String routingKey(P prepared) {
        return null;
    }

    /**
     * Checks one record against the model and prepares it for {@link #putRow}. A record that cannot
     * run is rejected with a {@link RequestRejectedException} (other exceptions are taken as {@link
     * ErrorCode#UNDECODABLE}); the job goes on.
     *
     * @param arrivalNanos when the operator took the record ({@link System#nanoTime()}), the
     *     instant max-delay counts from; for a translator that reports how long a record waited
     */
    P prepare(IN input, long arrivalNanos) throws RequestRejectedException;

    /** The output for a record {@link #prepare} rejected. */
    OUT rejected(IN input, RequestRejectedException rejection);

    /**
     * The output for a prepared record that got no result: {@link ErrorCode#TIMEOUT} or {@link
     * ErrorCode#BACKEND_ERROR} (the backend failed on it even in a batch of its own).
     */
    OUT failed(IN input, P prepared, ErrorCode code, String message);
}
