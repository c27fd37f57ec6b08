package io.flinktrt.jobs;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.time.Duration;

/** Settings of the Kafka → inference → Kafka job, as Flink {@link ConfigOption}s. */
@PublicEvolving
public final class InferenceJobOptions {

    private InferenceJobOptions() {}

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            ConfigOptions.key("kafka.bootstrap-servers")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Kafka brokers, host:port[,host:port...].");

    public static final ConfigOption<String> INPUT_TOPIC =
            ConfigOptions.key("kafka.input-topic")
                    .stringType()
                    .defaultValue("inference-requests")
                    .withDescription("Topic of InferenceRequest records (plain Avro binary).");

    public static final ConfigOption<String> OUTPUT_TOPIC =
            ConfigOptions.key("kafka.output-topic")
                    .stringType()
                    .defaultValue("inference-results")
                    .withDescription("Topic the InferenceResult records go to.");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC =
            ConfigOptions.key("kafka.dead-letter-topic")
                    .stringType()
                    .defaultValue("inference-dead-letter")
                    .withDescription(
                            "Topic the InferenceFailure records go to: bad input, timeouts, backend errors.");

    public static final ConfigOption<Integer> TOPIC_MAX_MESSAGE_BYTES =
            ConfigOptions.key("kafka.topic-max-message-bytes")
                    .intType()
                    .defaultValue(1_048_588)
                    .withDescription(
                            "The topics' max.message.bytes where the job may not read their configuration"
                                    + " (DescribeConfigs); default: Kafka's. Every outcome is kept within the output and"
                                    + " dead-letter topics' limits, and larger requests are refused.");

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("kafka.group-id")
                    .stringType()
                    .defaultValue("flink-tensorrt")
                    .withDescription(
                            "Consumer group of the source (offsets are checkpointed by Flink).");

    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE =
            ConfigOptions.key("kafka.delivery-guarantee")
                    .enumType(DeliveryGuarantee.class)
                    .defaultValue(DeliveryGuarantee.AT_LEAST_ONCE)
                    .withDescription(
                            "EXACTLY_ONCE writes in Kafka transactions committed on checkpoints (read the"
                                    + " output with isolation.level=read_committed; results appear once per checkpoint"
                                    + " interval); AT_LEAST_ONCE flushes on checkpoints; NONE does neither.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            ConfigOptions.key("kafka.transactional-id-prefix")
                    .stringType()
                    .defaultValue("flink-tensorrt")
                    .withDescription(
                            "Prefix of the sink's transactional ids; unique per job on a cluster.");

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
            ConfigOptions.key("job.checkpoint-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "How often Flink checkpoints source offsets and the requests in flight.");
}
