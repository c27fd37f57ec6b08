package io.flinktrt.tools.cli;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.testing.TestModels;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bin/flink-tensorrt local} as a user runs it (against a broker of the test's own): its exit
 * code, and flags that reach the job only through the command line's wiring.
 */
@Timeout(300)
class LocalCommandITCase {

    private static final int REQUESTS = 20;
    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    @Test
    void exitsZeroWhenEveryRequestCameBackAndWritesPlainRecordsAtLeastOnce() throws Exception {
        assertThat(local("plain", "--delivery-guarantee", "AT_LEAST_ONCE")).isZero();
        assertThat(recordsAndMarkers("plain-results"))
                .as("warm-up + requests, no transaction markers")
                .isEqualTo(REQUESTS + 1);
    }

    @Test
    void deliveryGuaranteeExactlyOnceWritesTheResultsInTransactions() throws Exception {
        assertThat(
                        local(
                                "eo",
                                "--delivery-guarantee",
                                "EXACTLY_ONCE",
                                "--checkpoint-interval-ms",
                                "200"))
                .isZero();
        assertThat(recordsAndMarkers("eo-results"))
                .as("each committed transaction leaves a marker")
                .isGreaterThan(REQUESTS + 1);
    }

    /**
     * A setting given with --set reaches the operator: here it rejects every request (after
     * decoding it), so local exits 1.
     */
    @Test
    void exitsOneWhenRequestsDoNotComeBackAsResults() throws Exception {
        assertThat(local("tiny", "--set", "inference.max-tensor-elements=4")).isEqualTo(1);
    }

    private static int local(String prefix, String... flags) {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "local",
                                "--bootstrap-servers",
                                KAFKA.bootstrapServers(),
                                "--model",
                                TestModels.path(TestModels.MLP).toString(),
                                "--backend",
                                "onnxruntime",
                                "--requests",
                                String.valueOf(REQUESTS),
                                "--bad-requests",
                                "0",
                                "--wait-s",
                                "60",
                                "--input-topic",
                                prefix + "-requests",
                                "--output-topic",
                                prefix + "-results",
                                "--dead-letter-topic",
                                prefix + "-dead-letter"));
        args.addAll(List.of(flags));
        return Cli.execute(args.toArray(String[]::new));
    }

    /** End offset of the topic's one partition: its records plus any transaction markers. */
    private static long recordsAndMarkers(String topic) {
        Properties properties = KAFKA.clientProperties();
        properties.put(
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        properties.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties)) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return consumer.endOffsets(List.of(partition)).get(partition);
        }
    }
}
