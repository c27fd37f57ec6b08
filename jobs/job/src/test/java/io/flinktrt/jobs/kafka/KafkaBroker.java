package io.flinktrt.jobs.kafka;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The in-JVM Kafka broker (KRaft) of a test class, as {@code @RegisterExtension static final}:
 * started before the class's first test, closed after its last. Tests of a class share it and stay
 * apart by their own topics.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {

    private final Map<String, String> brokerProperties;
    private EmbeddedKafka kafka;

    public KafkaBroker() {
        this(Map.of());
    }

    /** With extra broker settings, e.g. listeners and SASL, or a record size limit. */
    public KafkaBroker(Map<String, String> brokerProperties) {
        this.brokerProperties = brokerProperties;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        kafka = EmbeddedKafka.start(brokerProperties);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        kafka.close();
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** Client settings that reach the broker, its security settings included. */
    public Properties clientProperties() {
        return kafka.clientProperties();
    }

    /**
     * Creates the topics with the broker's own client settings (existing ones are left as they
     * are).
     */
    public void createTopics(int partitions, String... topics) throws Exception {
        EmbeddedKafka.createTopics(clientProperties(), partitions, List.of(topics));
    }
}
