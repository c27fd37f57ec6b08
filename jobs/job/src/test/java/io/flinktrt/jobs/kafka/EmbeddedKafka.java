package io.flinktrt.jobs.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A single-node Kafka (KRaft, broker and controller in one) inside this JVM, on a free port, with
 * its data in a temporary folder deleted on close. For the local run and the tests.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    public static EmbeddedKafka start() throws Exception {
        return start(Map.of());
    }

    /**
     * Starts the broker with extra broker settings (e.g. listeners and SASL for security tests).
     */
    public static EmbeddedKafka start(Map<String, String> brokerProperties) throws Exception {
        KafkaClusterTestKit.Builder builder =
                new KafkaClusterTestKit.Builder(
                                new TestKitNodes.Builder()
                                        .setCombined(true)
                                        .setNumBrokerNodes(1)
                                        .setNumControllerNodes(1)
                                        .build())
                        .setConfigProp("offsets.topic.replication.factor", "1")
                        .setConfigProp("transaction.state.log.replication.factor", "1")
                        .setConfigProp("transaction.state.log.min.isr", "1")
                        .setConfigProp("group.initial.rebalance.delay.ms", "0")
                        .setConfigProp("message.max.bytes", String.valueOf(64 << 20))
                        // The OS's TCP buffer autotuning instead of the fixed 100 KB defaults,
                        // which cap the window for multi-MB produce requests and fetch
                        // responses of image records.
                        .setConfigProp("socket.receive.buffer.bytes", "-1")
                        .setConfigProp("socket.send.buffer.bytes", "-1")
                        .setDeleteOnClose(true);
        brokerProperties.forEach(builder::setConfigProp);
        KafkaClusterTestKit cluster = builder.build();
        try {
            formatQuietly(cluster);
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return new EmbeddedKafka(cluster);
    }

    /**
     * Formats the log directories. Kafka's formatter prints its bootstrap metadata records to
     * System.out, a dump that means nothing to a user of {@code local}; nothing else prints
     * meanwhile.
     */
    private static void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            cluster.format();
        } finally {
            System.setOut(stdout);
        }
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** Client settings that reach this broker, including its security settings. */
    public Properties clientProperties() {
        return cluster.clientProperties();
    }

    /** Creates the topics (existing ones are left as they are). */
    public static void createTopics(Properties client, int partitions, List<String> topics)
            throws InterruptedException, ExecutionException {
        try (Admin admin = Admin.create(client)) {
            for (String topic : topics) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
                            .all()
                            .get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            awaitMetadata(admin, topics);
        }
    }

    /**
     * Waits (at most 30 s) until the broker describes every topic: created is not yet known to
     * every request path, and a client asking at once (a reader assigning partitions, the job
     * reading max.message.bytes) would find no such topic on a loaded machine.
     */
    private static void awaitMetadata(Admin admin, List<String> topics)
            throws InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                admin.describeTopics(topics).allTopicNames().get();
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
