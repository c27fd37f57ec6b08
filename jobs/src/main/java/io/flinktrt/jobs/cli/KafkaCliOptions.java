package io.flinktrt.jobs.cli;

import io.flinktrt.jobs.InferenceJobOptions;
import io.flinktrt.jobs.kafka.KafkaClientProperties;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Command-line flags for Kafka: brokers, topics, and any client property (TLS, SASL). */
public final class KafkaCliOptions {

    @Option(names = "--bootstrap-servers", description = "Kafka brokers, host:port[,...].")
    String bootstrapServers;

    @Option(names = "--input-topic", defaultValue = "inference-requests", description = "Default: ${DEFAULT-VALUE}.")
    String inputTopic;

    @Option(names = "--output-topic", defaultValue = "inference-results", description = "Default: ${DEFAULT-VALUE}.")
    String outputTopic;

    @Option(names = "--dead-letter-topic", defaultValue = "inference-dead-letter", description = "Default: ${DEFAULT-VALUE}.")
    String deadLetterTopic;

    @Option(names = "--group-id", defaultValue = "flink-tensorrt", description = "Default: ${DEFAULT-VALUE}.")
    String groupId;

    @Option(names = "--kafka-properties", paramLabel = "FILE",
            description = "Kafka client properties file (security.protocol, sasl.*, ssl.*, ...), for every client.")
    Path propertiesFile;

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE",
            description = "A Kafka client property; repeatable; overrides the file.")
    List<String> properties = new ArrayList<>();

    @Option(names = "--delivery-guarantee", defaultValue = "AT_LEAST_ONCE",
            description = "EXACTLY_ONCE, AT_LEAST_ONCE or NONE (default: ${DEFAULT-VALUE}).")
    DeliveryGuarantee deliveryGuarantee;

    @Option(names = "--checkpoint-interval-ms", defaultValue = "10000", description = "Default: ${DEFAULT-VALUE}; 0 = off.")
    long checkpointIntervalMs;

    Properties clientProperties() throws IOException {
        return KafkaClientProperties.load(propertiesFile, properties);
    }

    Configuration toConfiguration(String servers) {
        Configuration config = new Configuration();
        config.set(InferenceJobOptions.BOOTSTRAP_SERVERS, servers);
        config.set(InferenceJobOptions.INPUT_TOPIC, inputTopic);
        config.set(InferenceJobOptions.OUTPUT_TOPIC, outputTopic);
        config.set(InferenceJobOptions.DEAD_LETTER_TOPIC, deadLetterTopic);
        config.set(InferenceJobOptions.GROUP_ID, groupId);
        config.set(InferenceJobOptions.DELIVERY_GUARANTEE, deliveryGuarantee);
        config.set(InferenceJobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(checkpointIntervalMs));
        return config;
    }
}
