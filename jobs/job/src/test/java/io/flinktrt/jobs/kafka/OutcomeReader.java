package io.flinktrt.jobs.kafka;

import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.wire.AvroCodec;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Reads results and failures from their topics, from the end as it was when the reader was made (so
 * earlier runs on the same topics do not count), with read_committed isolation.
 */
public final class OutcomeReader implements AutoCloseable {

    /** One record read: a result or a failure, and when it was read (System.nanoTime). */
    public record Outcome(InferenceResult result, InferenceFailure failure, long readNanos) {
        public String id() {
            return result != null ? result.getId() : failure.getId();
        }
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String outputTopic;
    private final AvroCodec<InferenceResult> results = new AvroCodec<>(InferenceResult.class);
    private final AvroCodec<InferenceFailure> failures = new AvroCodec<>(InferenceFailure.class);

    public OutcomeReader(
            Properties client, String outputTopic, String deadLetterTopic, boolean fromBeginning) {
        Properties config = (Properties) client.clone();
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(16 << 20));
        this.consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.outputTopic = outputTopic;
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(outputTopic, deadLetterTopic)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos.isEmpty()) { // else it would read nothing of it, silently
                throw new IllegalStateException("Topic " + topic + " is unknown to the broker");
            }
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        consumer.assign(partitions);
        if (fromBeginning) {
            consumer.seekToBeginning(partitions);
        } else {
            consumer.seekToEnd(partitions);
            partitions.forEach(
                    consumer::position); // fix the start now, before anything is produced
        }
    }

    /** Reads for up to {@code wait} and hands each outcome to {@code sink}; returns how many. */
    public int poll(Duration wait, Consumer<Outcome> sink) {
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(wait)) {
            long now = System.nanoTime();
            if (record.topic().equals(outputTopic)) {
                sink.accept(new Outcome(results.decode(record.value()), null, now));
            } else {
                sink.accept(new Outcome(null, failures.decode(record.value()), now));
            }
            n++;
        }
        return n;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
