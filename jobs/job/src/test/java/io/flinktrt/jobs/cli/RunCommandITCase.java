package io.flinktrt.jobs.cli;

import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;

import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code run} command, as {@code flink run flink-tensorrt-job.jar ...} starts it, on a
 * MiniCluster with the in-JVM Kafka: a flag given on its command line reaches the operator.
 */
@Timeout(240)
class RunCommandITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    /** mlp_classifier: x float32 [N,16] -> probs float32 [N,10]. */
    private static final int FEATURES = 16;

    @Test
    void withRejectNonFiniteARequestHoldingNanGoesToTheDeadLetterTopic(
            @InjectClusterClient ClusterClient<?> flink) throws Exception {
        Map<String, OutcomeReader.Outcome> outcomes =
                runUntilAnswered(flink, "reject", "--reject-non-finite");

        assertThat(outcomes.get("finite").result()).as("the finite request's result").isNotNull();
        InferenceFailure failure = outcomes.get("nan").failure();
        assertThat(failure).as("the NaN request's failure").isNotNull();
        assertThat(failure.getCode()).isEqualTo(ErrorCode.NON_FINITE_INPUT);
        assertThat(failure.getMessage()).startsWith("Tensor 'x' holds NaN or Inf at element 3");
    }

    @Test
    void withoutItARequestHoldingNanIsAnswered(@InjectClusterClient ClusterClient<?> flink)
            throws Exception {
        Map<String, OutcomeReader.Outcome> outcomes = runUntilAnswered(flink, "pass");

        assertThat(outcomes.get("finite").result()).as("the finite request's result").isNotNull();
        assertThat(outcomes.get("nan").result()).as("the NaN request's result").isNotNull();
    }

    /**
     * Runs {@code run --model mlp_classifier.onnx <flags>} on fresh topics, sends a request with
     * NaN at element 3 (id {@code nan}) and a finite one ({@code finite}), and returns their
     * outcomes by id once both came back; then cancels the job.
     */
    private static Map<String, OutcomeReader.Outcome> runUntilAnswered(
            ClusterClient<?> flink, String name, String... flags) throws Exception {
        Properties client = KAFKA.clientProperties();
        String input = name + "-requests";
        String output = name + "-results";
        String deadLetter = name + "-dead-letter";
        EmbeddedKafka.createTopics(client, 1, List.of(input, output, deadLetter));
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "--bootstrap-servers",
                                KAFKA.bootstrapServers(),
                                "--input-topic",
                                input,
                                "--output-topic",
                                output,
                                "--dead-letter-topic",
                                deadLetter,
                                "--group-id",
                                name,
                                "--model",
                                TestModels.path(TestModels.MLP).toString()));
        args.addAll(List.of(flags));

        // The command blocks in env.execute() while its job runs: in its own thread, until
        // cancelled.
        ExecutorService command = Executors.newSingleThreadExecutor();
        Future<Integer> exit =
                command.submit(
                        () -> CommandRunner.execute(new RunCommand(), args.toArray(String[]::new)));
        try (RequestProducer producer = new RequestProducer(client, input);
                OutcomeReader reader = new OutcomeReader(client, output, deadLetter, true)) {
            producer.send(request("nan", 3));
            producer.send(request("finite", -1));
            producer.flush();
            Map<String, OutcomeReader.Outcome> outcomes = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (outcomes.size() < 2 && System.nanoTime() < deadline) {
                if (exit.isDone()) {
                    throw new AssertionError("the run command exited with " + exit.get());
                }
                reader.poll(Duration.ofMillis(200), outcome -> outcomes.put(outcome.id(), outcome));
            }
            assertThat(outcomes).as("outcomes by id").containsOnlyKeys("nan", "finite");
            return outcomes;
        } finally {
            for (JobStatusMessage job : flink.listJobs().get(30, TimeUnit.SECONDS)) {
                if (!job.getJobState().isGloballyTerminalState()) {
                    flink.cancel(job.getJobId()).get(30, TimeUnit.SECONDS);
                }
            }
            exit.get(60, TimeUnit.SECONDS); // env.execute() returns once the job is cancelled
            command.shutdownNow();
        }
    }

    /** One sample of mlp_classifier's input; NaN at element {@code nanAt} (none if negative). */
    private static InferenceRequest request(String id, int nanAt) {
        ByteBuffer data =
                ByteBuffer.allocate(FEATURES * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < FEATURES; k++) {
            data.putFloat(k == nanAt ? Float.NaN : k * 0.1f);
        }
        return new InferenceRequest(
                id,
                Map.of(),
                List.of(
                        new Tensor(
                                "x", DataType.FLOAT32, List.of(1L, (long) FEATURES), data.flip())),
                null,
                null);
    }
}
