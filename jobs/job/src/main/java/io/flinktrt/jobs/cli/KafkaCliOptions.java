package io.flinktrt.jobs.cli;

import io.flinktrt.jobs.InferenceJobOptions;
import io.flinktrt.jobs.kafka.KafkaClientProperties;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Command-line flags for Kafka, shared by the job and the tools: brokers, topics, any client
 * property (TLS, SASL).
 */
@Internal
public final class KafkaCliOptions {

    @Option(names = "--bootstrap-servers", description = "Kafka brokers, host:port[,...].")
    public String bootstrapServers;

    @Option(
            names = "--input-topic",
            defaultValue = "inference-requests",
            description = "Default: ${DEFAULT-VALUE}.")
    public String inputTopic;

    @Option(
            names = "--output-topic",
            defaultValue = "inference-results",
            description = "Default: ${DEFAULT-VALUE}.")
    public String outputTopic;

    @Option(
            names = "--dead-letter-topic",
            defaultValue = "inference-dead-letter",
            description = "Default: ${DEFAULT-VALUE}.")
    public String deadLetterTopic;

    @Option(
            names = "--group-id",
            defaultValue = "flink-tensorrt",
            description = "Default: ${DEFAULT-VALUE}.")
    public String groupId;

    @Option(
            names = "--kafka-properties",
            paramLabel = "FILE",
            description =
                    "Kafka client properties file (security.protocol, sasl.*, ssl.*, ...), for every client.")
    public Path propertiesFile;

    @Option(
            names = "--kafka-property",
            paramLabel = "KEY=VALUE",
            description = "A Kafka client property; repeatable; overrides the file.")
    public List<String> properties = new ArrayList<>();

    public Properties clientProperties() throws IOException {
        return KafkaClientProperties.load(propertiesFile, properties);
    }

    public Configuration toConfiguration(String servers) {
        Configuration config = new Configuration();
        config.set(InferenceJobOptions.BOOTSTRAP_SERVERS, servers);
        config.set(InferenceJobOptions.INPUT_TOPIC, inputTopic);
        config.set(InferenceJobOptions.OUTPUT_TOPIC, outputTopic);
        config.set(InferenceJobOptions.DEAD_LETTER_TOPIC, deadLetterTopic);
        config.set(InferenceJobOptions.GROUP_ID, groupId);
        return config;
    }
}
