package io.flinktrt.jobs.kafka;

import io.flinktrt.jobs.InferenceJob;
import io.flinktrt.jobs.InferenceJobBuilder;
import io.flinktrt.operator.InferenceFunctionBuilder;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * One run of the real job against the in-JVM broker on the test's MiniCluster: fresh topics, a
 * producer for the input and a reader of both output topics.
 */
public final class KafkaJobHarness implements AutoCloseable {

    public final String input;
    public final String output;
    public final String deadLetter;
    public final Properties client;
    private final JobClient job;
    public final RequestProducer producer;
    public final OutcomeReader reader;

    public KafkaJobHarness(
            KafkaBroker kafka,
            String name,
            int partitions,
            InferenceFunctionBuilder inference,
            UnaryOperator<InferenceJobBuilder> customize)
            throws Exception {
        this(kafka, kafka.clientProperties(), name, partitions, inference, customize);
    }

    /**
     * With {@code client} as the settings of every client: the job's, the producer's and the
     * reader's.
     */
    public KafkaJobHarness(
            KafkaBroker kafka,
            Properties client,
            String name,
            int partitions,
            InferenceFunctionBuilder inference,
            UnaryOperator<InferenceJobBuilder> customize)
            throws Exception {
        this.input = name + "-requests";
        this.output = name + "-results";
        this.deadLetter = name + "-dead-letter";
        this.client = client;
        EmbeddedKafka.createTopics(client, partitions, List.of(input, output, deadLetter));
        // A test job fails at its first error instead of restarting, so no error hides behind a
        // replay.
        Configuration noRestarts = new Configuration();
        noRestarts.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(noRestarts);
        env.setParallelism(partitions);
        customize
                .apply(
                        InferenceJob.builder()
                                .setBootstrapServers(kafka.bootstrapServers())
                                .setKafkaProperties(client)
                                .setTopics(input, output, deadLetter)
                                .setGroupId(name)
                                .setCheckpointInterval(Duration.ofSeconds(1))
                                .setInference(inference))
                .build()
                .addTo(env);
        this.job = env.executeAsync(name);
        this.producer = new RequestProducer(client, input);
        this.reader = new OutcomeReader(client, output, deadLetter, true);
    }

    /**
     * Reads until {@code count} outcomes came back (keyed by id; undecodable ones by a counter).
     */
    public Map<String, OutcomeReader.Outcome> readOutcomes(int count, Duration timeout) {
        Map<String, OutcomeReader.Outcome> outcomes = new LinkedHashMap<>();
        int[] anonymous = {0};
        int[] duplicates = {0};
        long deadline = System.nanoTime() + timeout.toNanos();
        while (outcomes.size() < count && System.nanoTime() < deadline) {
            reader.poll(
                    Duration.ofMillis(200),
                    outcome -> {
                        String id =
                                outcome.id() != null
                                        ? outcome.id()
                                        : "undecodable-" + anonymous[0]++;
                        if (outcomes.putIfAbsent(id, outcome) != null) {
                            duplicates[0]++;
                        }
                    });
        }
        if (duplicates[0] > 0) {
            throw new AssertionError(duplicates[0] + " outcomes came back more than once");
        }
        return outcomes;
    }

    public JobStatus status() throws Exception {
        return job.getJobStatus().get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        try {
            job.cancel().get(30, TimeUnit.SECONDS);
        } finally {
            producer.close();
            reader.close();
        }
    }
}
