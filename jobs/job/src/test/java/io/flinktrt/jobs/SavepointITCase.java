package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.testing.GatedBackend;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stop-with-savepoint while the backend holds batches and more requests wait in the async
 * operator's queue, then a new job restored from that savepoint: every request gets exactly one
 * result, the ones in flight at the savepoint from the restored job.
 */
@Timeout(180)
class SavepointITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    @AfterEach
    void openGate() {
        GatedBackend.openGate();
    }

    @Test
    void requestsInFlightAtAStopWithSavepointGetTheirResultsFromTheRestoredJobExactlyOnce(
            @TempDir Path savepoints) throws Exception {
        GatedBackend.reset();
        Path model = TestModels.path(TestModels.MLP);
        RandomRequests random = new RandomRequests(InferenceJobITCase.signature(model), 100, 19);
        int before = 20;
        int held = 30;
        int after = 10;
        Map<String, Integer> seen = new HashMap<>();
        Properties client = KAFKA.clientProperties();
        KAFKA.createTopics(1, "sp-requests", "sp-results", "sp-dead-letter");
        try (RequestProducer producer = new RequestProducer(client, "sp-requests");
                OutcomeReader reader =
                        new OutcomeReader(client, "sp-results", "sp-dead-letter", true)) {
            JobClient first = start(new Configuration());
            send(producer, random, "before-", before);
            read(reader, seen, before);

            GatedBackend.closeGate();
            int startedBeforeGate = GatedBackend.batchesStarted();
            send(producer, random, "held-", held);
            GatedBackend.awaitBatchesStarted(
                    startedBeforeGate + 2); // buffer sets held, the rest queued
            int batchesAtTheGate = GatedBackend.batchesStarted() - startedBeforeGate;
            String savepoint =
                    first.stopWithSavepoint(
                                    false,
                                    savepoints.toUri().toString(),
                                    SavepointFormatType.CANONICAL)
                            .get(60, TimeUnit.SECONDS);
            // The source's offsets in the savepoint are past the held requests: unless the
            // savepoint holds them in the async operator's state, the restored job never sees them.

            GatedBackend.reset(); // open, so the restored job can run what it replays
            Configuration restore = new Configuration();
            restore.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
            JobClient second = start(restore);
            send(producer, random, "after-", after);
            read(reader, seen, before + held + after);
            second.cancel().get(30, TimeUnit.SECONDS);

            System.out.printf(
                    "savepoint: %d results before, %d requests in flight at the savepoint (%d batches"
                            + " of up to 4 held by the backend), %d after; %d distinct ids came back, %d more"
                            + " than once%n",
                    before,
                    held,
                    batchesAtTheGate,
                    after,
                    seen.size(),
                    seen.values().stream().filter(c -> c > 1).count());
        }
        assertThat(seen).hasSize(before + held + after);
        assertThat(seen).allSatisfy((id, count) -> assertThat(count).as(id).isEqualTo(1));
    }

    private static JobClient start(Configuration conf) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        InferenceJob.builder()
                .setBootstrapServers(KAFKA.bootstrapServers())
                .setKafkaProperties(KAFKA.clientProperties())
                .setTopics("sp-requests", "sp-results", "sp-dead-letter")
                .setGroupId("sp")
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix("sp")
                .setCheckpointInterval(Duration.ofMillis(500))
                // Timeouts far away: the held requests must stay in flight, not go to the
                // dead-letter topic.
                // Room for all of them in the async queue: with it full, the source task cannot
                // take the savepoint.
                .setInference(
                        InferenceFunction.builder()
                                .setModel(TestModels.path(TestModels.MLP).toString())
                                .setBackend(GatedBackend.NAME)
                                .setMaxBatchSize(4)
                                .setMaxDelay(Duration.ofMillis(5))
                                .setCapacity(64)
                                .setTimeout(Duration.ofMinutes(2)))
                .build()
                .addTo(env);
        return env.executeAsync("savepoint");
    }

    private static void send(
            RequestProducer producer, RandomRequests random, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            producer.send(random.next(prefix + i));
        }
        producer.flush();
    }

    /** Reads results (failing on any dead letter) until {@code count} distinct ids were seen. */
    private static void read(OutcomeReader reader, Map<String, Integer> seen, int count) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (seen.size() < count && System.nanoTime() < deadline) {
            reader.poll(
                    Duration.ofMillis(100),
                    outcome -> {
                        assertThat(outcome.failure())
                                .as("dead letter for %s", outcome.id())
                                .isNull();
                        seen.merge(outcome.id(), 1, Integer::sum);
                    });
        }
    }
}
