package io.flinktrt.jobs.kafka;

import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.wire.AvroCodec;

import org.apache.flink.annotation.Internal;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;

import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/**
 * Writes results to the output topic and failures to the dead-letter topic, both as plain Avro
 * binary keyed by request id, so one sink (and one transaction) carries both. The operator keeps
 * every value within its topic's limit; a record whose key (the id, also in the value) would take
 * it over goes without a key, as a record the broker refused would fail the job.
 */
@Internal
public final class OutcomeSerializer implements KafkaRecordSerializationSchema<InferenceOutcome> {

    private final String outputTopic;
    private final String deadLetterTopic;
    private final RecordSizeLimits limits;
    private transient AvroCodec<InferenceResult> results;
    private transient AvroCodec<InferenceFailure> failures;

    public OutcomeSerializer(String outputTopic, String deadLetterTopic, RecordSizeLimits limits) {
        this.outputTopic = outputTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.limits = limits;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            InferenceOutcome outcome, KafkaSinkContext context, Long timestamp) {
        if (results == null) {
            results = new AvroCodec<>(InferenceResult.class);
            failures = new AvroCodec<>(InferenceFailure.class);
        }
        if (outcome.getOutcome() instanceof InferenceResult result) {
            return record(outputTopic, result.getId(), results.encode(result), timestamp);
        }
        InferenceFailure failure = (InferenceFailure) outcome.getOutcome();
        return record(deadLetterTopic, failure.getId(), failures.encode(failure), timestamp);
    }

    private ProducerRecord<byte[], byte[]> record(
            String topic, String id, byte[] value, Long timestamp) {
        byte[] key = id == null ? null : id.getBytes(StandardCharsets.UTF_8);
        return new ProducerRecord<>(
                topic, null, timestamp, limits.fits(topic, key, value) ? key : null, value);
    }
}
