package io.flinktrt.jobs.kafka;

import org.apache.flink.annotation.Internal;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

/**
 * The largest record each topic takes: the topic's {@code max.message.bytes}, read with the Admin
 * client where the job may (DescribeConfigs), else the configured fallback; for the topics the job
 * writes, also no more than the producer's {@code max.request.size}.
 */
@Internal
public final class RecordSizeLimits implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RecordSizeLimits.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(15);

    /**
     * A batch of one record without key and headers, around its value (sizes of up to 5 bytes
     * included).
     */
    static final int RECORD_OVERHEAD = sizeUpperBound(null, new byte[0]) + 4;

    private final Map<String, Integer> limits;

    RecordSizeLimits(Map<String, Integer> limits) {
        this.limits = Map.copyOf(limits);
    }

    /**
     * Reads the limits of {@code readTopics} and {@code writeTopics}; {@code fallback} for a topic
     * whose configuration cannot be read (no DescribeConfigs permission, a topic to write that is
     * not created yet, no broker reachable from here).
     *
     * @throws IllegalStateException when the brokers say that a topic of {@code readTopics} does
     *     not exist: the job's source would fail on it and restart forever, so the submission fails
     *     here instead, naming the topics and how to create them
     */
    public static RecordSizeLimits read(
            Properties client,
            Properties producer,
            List<String> readTopics,
            List<String> writeTopics,
            int fallback) {
        List<String> topics = new ArrayList<>(readTopics);
        topics.addAll(writeTopics);
        Map<String, Integer> limits = new HashMap<>();
        List<String> missing = new ArrayList<>();
        try (Admin admin = Admin.create(client)) {
            Map<ConfigResource, KafkaFuture<Config>> configs =
                    admin.describeConfigs(
                                    topics.stream()
                                            .map(
                                                    topic ->
                                                            new ConfigResource(
                                                                    ConfigResource.Type.TOPIC,
                                                                    topic))
                                            .toList(),
                                    new DescribeConfigsOptions()
                                            .timeoutMs((int) ADMIN_TIMEOUT.toMillis()))
                            .values();
            for (String topic : topics) {
                KafkaFuture<Config> config =
                        configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic));
                if (readTopics.contains(topic) && doesNotExist(config)) {
                    missing.add(topic);
                } else {
                    limits.put(topic, topicLimit(topic, config, fallback));
                }
            }
        } catch (KafkaException e) {
            LOG.warn(
                    "Cannot read the topics' {} ({}); taking {} bytes (kafka.topic-max-message-bytes).",
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                    rootMessage(e),
                    fallback);
            topics.forEach(topic -> limits.put(topic, fallback));
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException(
                    missingTopicsMessage(
                            missing,
                            client.getProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)));
        }
        int requestLimit =
                Integer.parseInt(
                        producer.getProperty(
                                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(1 << 20)));
        writeTopics.forEach(topic -> limits.merge(topic, requestLimit, Math::min));
        return new RecordSizeLimits(limits);
    }

    /** Whether the brokers answered that the topic does not exist. */
    private static boolean doesNotExist(KafkaFuture<Config> config) {
        try {
            config.get();
            return false;
        } catch (ExecutionException e) {
            return e.getCause() instanceof UnknownTopicOrPartitionException;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String missingTopicsMessage(List<String> topics, String bootstrapServers) {
        String names = String.join(", ", topics);
        boolean one = topics.size() == 1;
        return (one ? "Topic " : "Topics ")
                + names
                + (one ? " does" : " do")
                + " not exist on the Kafka brokers at "
                + bootstrapServers
                + ". The job reads "
                + (one ? "it" : "them")
                + " and does not create topics: create "
                + (one ? "it" : "each")
                + " first, e.g. kafka-topics.sh --bootstrap-server "
                + bootstrapServers
                + " --create --topic "
                + topics.get(0)
                + " --partitions <at least the job's parallelism> --replication-factor <replicas>"
                + " (on the cluster of scripts/cluster.sh: scripts/cluster.sh topics "
                + String.join(" ", topics)
                + ").";
    }

    private static int topicLimit(String topic, KafkaFuture<Config> config, int fallback) {
        try {
            return Integer.parseInt(config.get().get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn(
                    "Cannot read {} of topic {} ({}); taking {} bytes (kafka.topic-max-message-bytes).",
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                    topic,
                    rootMessage(e),
                    fallback);
            return fallback;
        }
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.toString();
    }

    /** The largest record the topic takes, key, value and batch header together. */
    public int recordBytes(String topic) {
        Integer limit = limits.get(topic);
        if (limit == null) {
            throw new IllegalArgumentException("No record size limit was read for topic " + topic);
        }
        return limit;
    }

    /** The largest value a record without key and headers may have on the topic. */
    public int valueBytes(String topic) {
        return recordBytes(topic) - RECORD_OVERHEAD;
    }

    /** Whether a record of this key and value fits the topic, as the producer counts it. */
    public boolean fits(String topic, byte[] key, byte[] value) {
        return sizeUpperBound(key, value) <= recordBytes(topic);
    }

    /**
     * What the producer checks against max.request.size: the record in a batch of its own,
     * uncompressed.
     */
    private static int sizeUpperBound(byte[] key, byte[] value) {
        return AbstractRecords.estimateSizeInBytesUpperBound(
                RecordBatch.CURRENT_MAGIC_VALUE,
                CompressionType.NONE,
                key,
                value,
                Record.EMPTY_HEADERS);
    }
}
