package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.testing.TestModels;

import java.util.Properties;

/** The job of the tests that only build it: the MLP model on topics named after the test. */
final class TestJobs {

    private TestJobs() {}

    /** On {@code name}-requests, {@code name}-results and {@code name}-dead-letter. */
    static InferenceJob mlp(KafkaBroker kafka, String name) {
        return mlp(kafka, kafka.clientProperties(), name);
    }

    /** With {@code client} as the job's Kafka client settings. */
    static InferenceJob mlp(KafkaBroker kafka, Properties client, String name) {
        return InferenceJob.builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setKafkaProperties(client)
                .setTopics(name + "-requests", name + "-results", name + "-dead-letter")
                .setGroupId(name)
                .setInference(
                        InferenceFunction.builder()
                                .setModel(TestModels.path(TestModels.MLP).toString()))
                .build();
    }
}
