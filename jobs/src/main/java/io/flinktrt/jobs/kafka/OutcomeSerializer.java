package io.flinktrt.jobs.kafka;

import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.wire.AvroCodec;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;

import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/**
 * Writes results to the output topic and failures to the dead-letter topic, both as plain Avro
 * binary keyed by request id, so one sink (and one transaction) carries both.
 */
public final class OutcomeSerializer implements KafkaRecordSerializationSchema<InferenceOutcome> {

    private final String outputTopic;
    private final String deadLetterTopic;
    private transient AvroCodec<InferenceResult> results;
    private transient AvroCodec<InferenceFailure> failures;

    public OutcomeSerializer(String outputTopic, String deadLetterTopic) {
        this.outputTopic = outputTopic;
        this.deadLetterTopic = deadLetterTopic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(InferenceOutcome outcome, KafkaSinkContext context, Long timestamp) {
        if (results == null) {
            results = new AvroCodec<>(InferenceResult.class);
            failures = new AvroCodec<>(InferenceFailure.class);
        }
        if (outcome.getOutcome() instanceof InferenceResult result) {
            return new ProducerRecord<>(outputTopic, null, timestamp, key(result.getId()), results.encode(result));
        }
        InferenceFailure failure = (InferenceFailure) outcome.getOutcome();
        return new ProducerRecord<>(deadLetterTopic, null, timestamp, key(failure.getId()), failures.encode(failure));
    }

    private static byte[] key(String id) {
        return id == null ? null : id.getBytes(StandardCharsets.UTF_8);
    }
}
