package io.flinktrt.jobs.cli;

import io.flinktrt.jobs.InferenceJobOptions;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

import picocli.CommandLine.Option;

import java.time.Duration;

/** Command-line flags of the job alone (not of produce/consume): how results are delivered. */
@Internal
public final class DeliveryCliOptions {

    @Option(
            names = "--delivery-guarantee",
            defaultValue = "AT_LEAST_ONCE",
            description = "EXACTLY_ONCE, AT_LEAST_ONCE or NONE (default: ${DEFAULT-VALUE}).")
    public DeliveryGuarantee deliveryGuarantee;

    @Option(
            names = "--checkpoint-interval-ms",
            defaultValue = "10000",
            description = "Default: ${DEFAULT-VALUE}; 0 = off.")
    public long checkpointIntervalMs;

    @Option(
            names = "--topic-max-message-bytes",
            defaultValue = "1048588",
            paramLabel = "BYTES",
            description =
                    "The topics' max.message.bytes where the job may not read their configuration (DescribeConfigs);"
                            + " what the job writes is kept within it. Default: ${DEFAULT-VALUE}, Kafka's.")
    public int topicMaxMessageBytes;

    public void addTo(Configuration config) {
        config.set(InferenceJobOptions.DELIVERY_GUARANTEE, deliveryGuarantee);
        config.set(
                InferenceJobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(checkpointIntervalMs));
        config.set(InferenceJobOptions.TOPIC_MAX_MESSAGE_BYTES, topicMaxMessageBytes);
    }
}
