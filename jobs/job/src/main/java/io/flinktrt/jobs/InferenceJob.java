package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.OutcomeSerializer;
import io.flinktrt.jobs.kafka.RawRequestDeserializer;
import io.flinktrt.jobs.kafka.RecordSizeLimits;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.schema.InferenceOutcome;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * The streaming job: Kafka requests → batched inference → results to the output topic and failures
 * to the dead-letter topic, through one Kafka sink.
 */
@PublicEvolving
public final class InferenceJob {

    /** The broker's default {@code transaction.max.timeout.ms}. */
    static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    /**
     * The largest request the source fetches unless the user sets {@code
     * max.partition.fetch.bytes}.
     */
    static final int MAX_FETCH_PER_PARTITION = 64 << 20;

    private final String bootstrapServers;
    private final String inputTopic;
    private final String outputTopic;
    private final String deadLetterTopic;
    private final String groupId;
    private final Properties kafkaProperties;
    private final DeliveryGuarantee deliveryGuarantee;
    private final String transactionalIdPrefix;
    private final Duration checkpointInterval;
    private final int topicMaxMessageBytes;
    private final InferenceFunctionBuilder inference;

    InferenceJob(InferenceJobBuilder b) {
        this.bootstrapServers = b.bootstrapServers;
        this.inputTopic = b.inputTopic;
        this.outputTopic = b.outputTopic;
        this.deadLetterTopic = b.deadLetterTopic;
        this.groupId = b.groupId;
        this.kafkaProperties = b.kafkaProperties;
        this.deliveryGuarantee = b.deliveryGuarantee;
        this.transactionalIdPrefix = b.transactionalIdPrefix;
        this.checkpointInterval = b.checkpointInterval;
        this.topicMaxMessageBytes = b.topicMaxMessageBytes;
        this.inference = b.inference;
    }

    public static InferenceJobBuilder builder() {
        return new InferenceJobBuilder();
    }

    /**
     * Adds the job's operators to {@code env} and turns on checkpointing. Reads the topics' record
     * size limits first: no outcome the job writes may be larger than its topic takes, or the sink
     * would fail the job on it at every restart.
     */
    public void addTo(StreamExecutionEnvironment env) {
        if (!checkpointInterval.isZero()) {
            env.enableCheckpointing(checkpointInterval.toMillis());
        }
        // No operator of the job changes a record it was given, so records pass between chained
        // operators without copies (requests are hundreds of KB for images).
        env.getConfig().enableObjectReuse();
        Properties producer = producerProperties();
        RecordSizeLimits limits =
                RecordSizeLimits.read(
                        clientProperties(),
                        producer,
                        List.of(inputTopic),
                        List.of(outputTopic, deadLetterTopic),
                        topicMaxMessageBytes);
        KafkaSource<RequestRecord> source =
                KafkaSource.<RequestRecord>builder()
                        .setBootstrapServers(bootstrapServers)
                        .setTopics(inputTopic)
                        .setGroupId(groupId)
                        .setProperties(consumerProperties())
                        .setStartingOffsets(
                                OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                        .setDeserializer(new RawRequestDeserializer())
                        .build();
        DataStream<RequestRecord> requests =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "kafka-requests")
                        .uid("kafka-requests");
        KafkaSink<InferenceOutcome> sink =
                KafkaSink.<InferenceOutcome>builder()
                        .setBootstrapServers(bootstrapServers)
                        .setKafkaProducerConfig(producer)
                        .setRecordSerializer(
                                new OutcomeSerializer(outputTopic, deadLetterTopic, limits))
                        .setDeliveryGuarantee(deliveryGuarantee)
                        .setTransactionalIdPrefix(transactionalIdPrefix)
                        .build();
        inference
                .setDefaultMaxRequestBytes(limits.recordBytes(inputTopic))
                .setMaxResultBytes(limits.valueBytes(outputTopic))
                .setMaxFailureBytes(limits.valueBytes(deadLetterTopic))
                .build()
                .applyTo(requests)
                .sinkTo(sink)
                .name("kafka-outcomes")
                .uid("kafka-outcomes");
    }

    /** Settings of the job's own Admin client: the user's, with the brokers. */
    private Properties clientProperties() {
        Properties client = (Properties) kafkaProperties.clone();
        client.putIfAbsent(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return client;
    }

    /**
     * The source's consumer settings, unless the user set them: fetches sized for image requests (a
     * default fetch returns one 600 KB record per partition per round trip), and the OS's TCP
     * buffer autotuning instead of a fixed 64 KB receive buffer, which caps the window of such
     * fetches.
     */
    Properties consumerProperties() {
        return sourceConsumerProperties(kafkaProperties);
    }

    /**
     * The settings the job's source consumes with, for the given client properties (the bench's
     * Kafka ceiling uses them too).
     */
    public static Properties sourceConsumerProperties(Properties kafkaProperties) {
        Properties consumer = (Properties) kafkaProperties.clone();
        consumer.putIfAbsent(
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                String.valueOf(MAX_FETCH_PER_PARTITION));
        consumer.putIfAbsent(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(256 << 20));
        consumer.putIfAbsent(ConsumerConfig.RECEIVE_BUFFER_CONFIG, "-1");
        return consumer;
    }

    /**
     * The sink's producer settings. The connector's default transaction timeout (1 h) is above the
     * broker's default {@code transaction.max.timeout.ms} (15 min), which refuses every
     * transaction; unless the user set one, EXACTLY_ONCE asks for the broker's default maximum.
     */
    Properties producerProperties() {
        Properties producer = (Properties) kafkaProperties.clone();
        // Results go out as soon as a batch is done: Kafka 4 lingers 5 ms by default, a delay every
        // result would pay; the records of one inference batch are sent together anyway.
        producer.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "0");
        // Let records as large as the topics take go out (each is kept within its topic's limit).
        producer.putIfAbsent(
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                String.valueOf(MAX_FETCH_PER_PARTITION + (1 << 20)));
        if (deliveryGuarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            producer.putIfAbsent(
                    ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                    String.valueOf(DEFAULT_TRANSACTION_TIMEOUT.toMillis()));
        }
        return producer;
    }
}
