package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaClientProperties;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The job against the in-JVM broker with SASL/PLAIN authentication: the right credentials get
 * results, wrong ones fail with Kafka's authentication error, and the password shows up neither in
 * the logs nor in what Flink keeps as the job's configuration.
 */
@Timeout(180)
class SecurityITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    private static final String PASSWORD = "alice-pw-7f3c9e";
    private static final String WRONG_PASSWORD = "not-" + PASSWORD;

    // The test kit names the client listener EXTERNAL; its users are given in the listener's JAAS
    // config.
    @RegisterExtension
    static final KafkaBroker KAFKA =
            new KafkaBroker(
                    Map.of(
                            "listener.security.protocol.map",
                            "EXTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                            "sasl.enabled.mechanisms",
                            "PLAIN",
                            "sasl.mechanism.inter.broker.protocol",
                            "PLAIN",
                            "listener.name.external.plain.sasl.jaas.config",
                            "org.apache.kafka.common.security.plain.PlainLoginModule required"
                                    + " username=\"broker\" password=\"broker-pw\""
                                    + " user_broker=\"broker-pw\" user_alice=\""
                                    + PASSWORD
                                    + "\";"));

    @Test
    void withTheRightCredentialsResultsComeBackAndThePasswordIsNeverLogged() throws Exception {
        Path model = TestModels.path(TestModels.MLP);
        RandomRequests random = new RandomRequests(InferenceJobITCase.signature(model), 100, 17);
        int n = 50;
        StringWriter logs = new StringWriter();
        Map<String, OutcomeReader.Outcome> outcomes;
        try (CapturedLogs ignored = new CapturedLogs(logs);
                KafkaJobHarness run =
                        new KafkaJobHarness(
                                KAFKA,
                                client(PASSWORD),
                                "sasl",
                                1,
                                InferenceFunction.builder()
                                        .setModel(model.toString())
                                        .setMaxBatchSize(8),
                                job ->
                                        job.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                                                .setTransactionalIdPrefix("sasl"))) {
            for (int i = 0; i < n; i++) {
                run.producer.send(random.next("sasl-" + i));
            }
            run.producer.flush();
            outcomes = run.readOutcomes(n, Duration.ofSeconds(60));
        }

        assertThat(outcomes).hasSize(n);
        assertThat(outcomes.values())
                .allSatisfy(o -> assertThat(o.result()).as(o.id()).isNotNull());
        System.out.printf(
                "sasl: %d of %d results with SASL/PLAIN; %d characters of INFO logs captured%n",
                outcomes.size(), n, logs.toString().length());
        assertThat(logs.toString())
                .as("logs at INFO")
                .contains("sasl.jaas.config") // the Kafka clients did log their settings, masked
                .doesNotContain(PASSWORD);
    }

    @Test
    void withAWrongPasswordTheToolsAndTheJobFailWithAnAuthenticationError() throws Exception {
        Properties wrong = client(WRONG_PASSWORD);
        EmbeddedKafka.createTopics(
                client(PASSWORD),
                1,
                List.of("wrong-requests", "wrong-results", "wrong-dead-letter"));

        assertThatThrownBy(
                        () -> new OutcomeReader(wrong, "wrong-results", "wrong-dead-letter", true))
                .isInstanceOf(SaslAuthenticationException.class)
                .hasMessageContaining("Invalid username or password");

        Configuration noRestarts = new Configuration();
        noRestarts.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(noRestarts);
        job(wrong, "wrong").addTo(env);
        JobClient job = env.executeAsync("wrong-credentials");
        assertThatThrownBy(() -> job.getJobExecutionResult().get(60, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .satisfies(
                        e ->
                                assertThat(
                                                ExceptionUtils.findThrowable(
                                                        e, SaslAuthenticationException.class))
                                        .as("an authentication error in the causes of %s", e)
                                        .hasValueSatisfying(
                                                sasl -> {
                                                    System.out.println(
                                                            "sasl: the job with a wrong password failed with: "
                                                                    + sasl);
                                                    assertThat(sasl)
                                                            .hasMessageContaining(
                                                                    "Authentication failed");
                                                }));
    }

    @Test
    void thePasswordIsInNoConfigurationFlinkShowsOrPrintsForTheJob() throws Exception {
        Properties client = client(PASSWORD);
        EmbeddedKafka.createTopics(
                client, 1, List.of("dump-requests", "dump-results", "dump-dead-letter"));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        job(client, "dump").addTo(env);
        String plan = env.getExecutionPlan();
        JobGraph graph = env.getStreamGraph().getJobGraph();

        assertThat(KafkaClientProperties.describe(client))
                .contains("sasl.jaas.config=****")
                .doesNotContain(PASSWORD);
        assertThat(plan).as("execution plan").doesNotContain(PASSWORD);
        assertThat(env.getConfiguration().toMap().toString())
                .as("environment configuration")
                .doesNotContain(PASSWORD);
        assertThat(env.getConfig().getGlobalJobParameters().toMap().toString())
                .as("global job parameters")
                .doesNotContain(PASSWORD);
        assertThat(graph.getJobConfiguration().toMap().toString())
                .as("job graph configuration")
                .doesNotContain(PASSWORD);
        assertThat(
                        graph.getSerializedExecutionConfig()
                                .deserializeValue(getClass().getClassLoader())
                                .toString())
                .as("execution config")
                .doesNotContain(PASSWORD);
    }

    private static InferenceJob job(Properties client, String name) {
        return TestJobs.mlp(KAFKA, client, name);
    }

    private static Properties client(String password) {
        Properties client = KAFKA.clientProperties();
        client.setProperty("security.protocol", "SASL_PLAINTEXT");
        client.setProperty("sasl.mechanism", "PLAIN");
        client.setProperty(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " username=\"alice\" password=\""
                        + password
                        + "\";");
        return client;
    }

    /**
     * Everything logged at INFO and above while open, Kafka's and Flink's included, into a writer;
     * the console keeps showing warnings only.
     */
    private static final class CapturedLogs implements AutoCloseable {
        private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
        private final LoggerConfig root = context.getConfiguration().getRootLogger();
        private final Appender console = context.getConfiguration().getAppender("Console");
        private final Appender capture;
        private final Map<String, Level> levels = new HashMap<>();

        CapturedLogs(StringWriter target) {
            capture =
                    WriterAppender.newBuilder()
                            .setName("captured")
                            .setTarget(target)
                            .setLayout(
                                    PatternLayout.newBuilder()
                                            .withPattern("%p %c - %m %throwable%n")
                                            .build())
                            .build();
            capture.start();
            root.removeAppender(console.getName());
            root.addAppender(console, Level.WARN, null);
            root.addAppender(capture, Level.INFO, null);
            for (LoggerConfig logger : context.getConfiguration().getLoggers().values()) {
                levels.put(logger.getName(), logger.getLevel());
                logger.setLevel(Level.INFO);
            }
            context.updateLoggers();
        }

        @Override
        public void close() {
            root.removeAppender(capture.getName());
            root.removeAppender(console.getName());
            root.addAppender(console, null, null);
            context.getConfiguration()
                    .getLoggers()
                    .values()
                    .forEach(
                            logger ->
                                    logger.setLevel(
                                            levels.getOrDefault(
                                                    logger.getName(), logger.getLevel())));
            context.updateLoggers();
            capture.stop();
        }
    }
}
