package io.flinktrt.operator;

import io.flinktrt.schema.SourcePosition;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A serialized {@code InferenceRequest} as the operator takes it, with where it was read, so that
 * its failure can point back to it even when the failure cannot carry all of it. Nothing changes a
 * record once it is made (the Kafka source makes a new array per record).
 *
 * @param topic the topic it was read from, or null when its source has no positions
 */
@PublicEvolving
public record RequestRecord(byte[] payload, String topic, int partition, long offset) {

    /** A request from a source without positions: a collection, a generator. */
    public static RequestRecord of(byte[] payload) {
        return new RequestRecord(payload, null, -1, -1);
    }

    /** Where it was read, for the failure record; null when unknown. */
    public SourcePosition source() {
        return topic == null ? null : new SourcePosition(topic, partition, offset);
    }
}
