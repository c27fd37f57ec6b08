package io.flinktrt.tools.bench;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.InferenceJob;
import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.tools.local.LocalRun;
import io.flinktrt.tools.local.LocalRunReport;
import io.flinktrt.wire.AvroCodec;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The full job on one host: embedded Kafka → Flink → Kafka, with fresh topics per run so no run
 * reads another's records. A fixed {@code rate} makes an open-loop load for latency figures. {@link
 * #kafkaAlone} measures the same broker without Flink: the job's ceiling.
 */
final class KafkaJobThroughput implements AutoCloseable {

    /** Kafka alone: requests per second through a topic, and the payload bytes per second. */
    record KafkaAlone(
            double recordsPerSecond, double bytesPerSecond, int requests, int requestBytes) {}

    private final EmbeddedKafka kafka;
    private final Properties client;
    private int runs;

    KafkaJobThroughput() throws Exception {
        kafka = EmbeddedKafka.start();
        client = kafka.clientProperties();
    }

    LocalRunReport run(
            ModelSignature signature,
            InferenceFunctionBuilder inference,
            int parallelism,
            int requests,
            int ratePerSecond)
            throws Exception {
        return run(signature, inference, parallelism, requests, ratePerSecond, null);
    }

    /** The same, sending {@code requestAt.apply(i)} as request i (null: random requests). */
    LocalRunReport run(
            ModelSignature signature,
            InferenceFunctionBuilder inference,
            int parallelism,
            int requests,
            int ratePerSecond,
            IntFunction<InferenceRequest> requestAt)
            throws Exception {
        String run = "bench-" + (++runs);
        List<String> topics = List.of(run + "-requests", run + "-results", run + "-dead-letter");
        EmbeddedKafka.createTopics(client, parallelism, topics);
        InferenceJob job =
                InferenceJob.builder()
                        .setBootstrapServers(kafka.bootstrapServers())
                        .setKafkaProperties(client)
                        .setTopics(topics.get(0), topics.get(1), topics.get(2))
                        .setGroupId(run)
                        .setCheckpointInterval(Duration.ofSeconds(10))
                        .setInference(inference)
                        .build();
        return new LocalRun(
                        job,
                        signature,
                        client,
                        topics.get(0),
                        topics.get(1),
                        topics.get(2),
                        parallelism,
                        run)
                .sending(requestAt)
                .run(requests, 0, ratePerSecond, 100, 600, null, 0);
    }

    /**
     * The job's path without Flink and inference: the same requests sent with the same producer
     * settings to a fresh topic of {@code partitions} partitions, read back at the same time with
     * the job source's consumer settings, from the first send to the last record read.
     */
    KafkaAlone kafkaAlone(List<InferenceRequest> samples, int partitions, int requests)
            throws Exception {
        String topic = "kafka-alone-" + (++runs);
        EmbeddedKafka.createTopics(client, partitions, List.of(topic));
        Properties settings = InferenceJob.sourceConsumerProperties(client);
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, topic);
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<TopicPartition> assigned = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            assigned.add(new TopicPartition(topic, p));
        }
        try (KafkaConsumer<byte[], byte[]> consumer =
                        new KafkaConsumer<>(
                                settings,
                                new ByteArrayDeserializer(),
                                new ByteArrayDeserializer());
                RequestProducer producer = new RequestProducer(client, topic)) {
            consumer.assign(assigned); // as Flink's source does: no group rebalance
            consumer.seekToBeginning(assigned);
            // Warm-up, a fifth of the run: connections up and code compiled before the clock
            // starts, as
            // the job's run comes after the broker has already served this one.
            int warmUp = Math.max(1, requests / 5);
            for (int i = 0; i < warmUp; i++) {
                producer.send(samples.get(i % samples.size()));
            }
            producer.flush();
            long[] read = {0, 0};
            readUntil(consumer, warmUp, read);
            long start = System.nanoTime();
            CompletableFuture<Long> reading =
                    CompletableFuture.supplyAsync(
                            () -> readUntil(consumer, warmUp + requests, read));
            for (int i = 0; i < requests; i++) {
                InferenceRequest request = samples.get(i % samples.size());
                request.setId("kafka-alone-" + i);
                producer.send(request);
            }
            producer.flush();
            long end = reading.get(10, TimeUnit.MINUTES);
            double seconds = (end - start) / 1e9;
            AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
            int requestBytes =
                    (int)
                            (samples.stream().mapToLong(s -> codec.encode(s).length).sum()
                                    / samples.size());
            return new KafkaAlone(
                    requests / seconds,
                    (double) requests * requestBytes / seconds,
                    requests,
                    requestBytes);
        }
    }

    /** Reads until {@code count} records in all; returns when the last one arrived (nanoTime). */
    private static long readUntil(KafkaConsumer<byte[], byte[]> consumer, long count, long[] read) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (read[0] < count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "Kafka alone: only " + read[0] + " of " + count + " records came back");
            }
            for (ConsumerRecord<byte[], byte[]> ignored : consumer.poll(Duration.ofMillis(50))) {
                read[0]++;
                read[1] = System.nanoTime();
            }
        }
        return read[1];
    }

    @Override
    public void close() throws Exception {
        kafka.close();
    }
}
