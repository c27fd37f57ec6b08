package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.KafkaClientProperties;
import io.flinktrt.operator.InferenceFunctionBuilder;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.time.Duration;
import java.util.Properties;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkNotNull;
import static org.apache.flink.util.Preconditions.checkState;

/** Builds an {@link InferenceJob}; every check is in {@link #sanityCheck()}. */
@PublicEvolving
public final class InferenceJobBuilder {

    String bootstrapServers;
    String inputTopic = InferenceJobOptions.INPUT_TOPIC.defaultValue();
    String outputTopic = InferenceJobOptions.OUTPUT_TOPIC.defaultValue();
    String deadLetterTopic = InferenceJobOptions.DEAD_LETTER_TOPIC.defaultValue();
    String groupId = InferenceJobOptions.GROUP_ID.defaultValue();
    Properties kafkaProperties = new Properties();
    DeliveryGuarantee deliveryGuarantee = InferenceJobOptions.DELIVERY_GUARANTEE.defaultValue();
    String transactionalIdPrefix = InferenceJobOptions.TRANSACTIONAL_ID_PREFIX.defaultValue();
    Duration checkpointInterval = InferenceJobOptions.CHECKPOINT_INTERVAL.defaultValue();
    int topicMaxMessageBytes = InferenceJobOptions.TOPIC_MAX_MESSAGE_BYTES.defaultValue();
    InferenceFunctionBuilder inference;

    InferenceJobBuilder() {}

    public InferenceJobBuilder fromConfiguration(ReadableConfig config) {
        config.getOptional(InferenceJobOptions.BOOTSTRAP_SERVERS)
                .ifPresent(v -> bootstrapServers = v);
        inputTopic = config.get(InferenceJobOptions.INPUT_TOPIC);
        outputTopic = config.get(InferenceJobOptions.OUTPUT_TOPIC);
        deadLetterTopic = config.get(InferenceJobOptions.DEAD_LETTER_TOPIC);
        groupId = config.get(InferenceJobOptions.GROUP_ID);
        deliveryGuarantee = config.get(InferenceJobOptions.DELIVERY_GUARANTEE);
        transactionalIdPrefix = config.get(InferenceJobOptions.TRANSACTIONAL_ID_PREFIX);
        checkpointInterval = config.get(InferenceJobOptions.CHECKPOINT_INTERVAL);
        topicMaxMessageBytes = config.get(InferenceJobOptions.TOPIC_MAX_MESSAGE_BYTES);
        return this;
    }

    public InferenceJobBuilder setBootstrapServers(String servers) {
        this.bootstrapServers = servers;
        return this;
    }

    public InferenceJobBuilder setTopics(String input, String output, String deadLetter) {
        this.inputTopic = input;
        this.outputTopic = output;
        this.deadLetterTopic = deadLetter;
        return this;
    }

    public InferenceJobBuilder setGroupId(String groupId) {
        this.groupId = groupId;
        return this;
    }

    /** Kafka client settings (TLS, SASL, ...) for the source and the sink alike. */
    public InferenceJobBuilder setKafkaProperties(Properties properties) {
        this.kafkaProperties = (Properties) properties.clone();
        return this;
    }

    public InferenceJobBuilder setDeliveryGuarantee(DeliveryGuarantee guarantee) {
        this.deliveryGuarantee = guarantee;
        return this;
    }

    public InferenceJobBuilder setTransactionalIdPrefix(String prefix) {
        this.transactionalIdPrefix = prefix;
        return this;
    }

    /** Zero turns checkpointing off (then nothing is replayed after a failure). */
    public InferenceJobBuilder setCheckpointInterval(Duration interval) {
        this.checkpointInterval = interval;
        return this;
    }

    /**
     * The topics' {@code max.message.bytes} where the job may not read them (DescribeConfigs): the
     * sizes of what it writes are kept within it.
     */
    public InferenceJobBuilder setTopicMaxMessageBytes(int bytes) {
        this.topicMaxMessageBytes = bytes;
        return this;
    }

    /**
     * The inference operator's settings. The job completes them with what its topics take: the
     * request size limit (unless set) from the input topic, the result and failure limits from the
     * output and dead-letter topics.
     */
    public InferenceJobBuilder setInference(InferenceFunctionBuilder inference) {
        this.inference = inference;
        return this;
    }

    public InferenceJob build() {
        sanityCheck();
        return new InferenceJob(this);
    }

    private void sanityCheck() {
        checkNotNull(
                bootstrapServers,
                "Property %s is required but not provided.",
                InferenceJobOptions.BOOTSTRAP_SERVERS.key());
        checkNotNull(
                inference,
                "No inference function is set: call setInference(InferenceFunction.builder().setModel(...)).");
        checkArgument(
                topicMaxMessageBytes > 0,
                "%s must be positive.",
                InferenceJobOptions.TOPIC_MAX_MESSAGE_BYTES.key());
        checkState(
                !inputTopic.isBlank() && !outputTopic.isBlank() && !deadLetterTopic.isBlank(),
                "Input, output and dead-letter topics must all be named.");
        checkState(
                !inputTopic.equals(outputTopic) && !inputTopic.equals(deadLetterTopic),
                "The input topic %s must differ from the output and dead-letter topics, or results feed back in.",
                inputTopic);
        checkArgument(
                !checkpointInterval.isNegative(),
                "%s must not be negative.",
                InferenceJobOptions.CHECKPOINT_INTERVAL.key());
        checkState(
                deliveryGuarantee != DeliveryGuarantee.EXACTLY_ONCE || !checkpointInterval.isZero(),
                "EXACTLY_ONCE commits Kafka transactions on checkpoints: set %s above zero.",
                InferenceJobOptions.CHECKPOINT_INTERVAL.key());
        checkState(
                !kafkaProperties.containsKey("bootstrap.servers")
                        || kafkaProperties
                                .getProperty("bootstrap.servers")
                                .equals(bootstrapServers),
                "bootstrap.servers in the Kafka properties (%s) differs from --bootstrap-servers; set it once.",
                KafkaClientProperties.describe(kafkaProperties));
    }
}
