package io.flinktrt.jobs.bench;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.InferenceJob;
import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.jobs.local.LocalRun;
import io.flinktrt.jobs.local.LocalRunReport;
import io.flinktrt.operator.InferenceFunctionBuilder;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * The full job on one host: embedded Kafka → Flink → Kafka, with fresh topics per run so no run
 * reads another's records. A fixed {@code rate} makes an open-loop load for latency figures.
 */
final class KafkaJobThroughput implements AutoCloseable {

    private final EmbeddedKafka kafka;
    private final Properties client;
    private int runs;

    KafkaJobThroughput() throws Exception {
        kafka = EmbeddedKafka.start();
        client = kafka.clientProperties();
    }

    LocalRunReport run(ModelSignature signature, InferenceFunctionBuilder inference, int parallelism, int requests,
                       int ratePerSecond) throws Exception {
        String run = "bench-" + (++runs);
        List<String> topics = List.of(run + "-requests", run + "-results", run + "-dead-letter");
        EmbeddedKafka.createTopics(client, parallelism, topics);
        InferenceJob job = InferenceJob.builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setKafkaProperties(client)
                .setTopics(topics.get(0), topics.get(1), topics.get(2))
                .setGroupId(run)
                .setCheckpointInterval(Duration.ofSeconds(10))
                .setInference(inference)
                .build();
        return new LocalRun(job, signature, client, topics.get(0), topics.get(1), topics.get(2), parallelism, run)
                .run(requests, 0, ratePerSecond, 100, 600);
    }

    @Override
    public void close() throws Exception {
        kafka.close();
    }
}
