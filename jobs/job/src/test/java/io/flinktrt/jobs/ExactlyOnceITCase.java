package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.InternalMiniClusterExtension;
import org.apache.flink.streaming.util.TestStreamEnvironment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real job ({@link InferenceJob#addTo}, unchanged) with EXACTLY_ONCE delivery while the
 * MiniCluster's task manager is killed at random points, the way a crashed process dies: every
 * request must end up exactly once in the results or the dead-letter topic, as read_committed.
 */
@Timeout(300)
class ExactlyOnceITCase {

    private static final InMemoryReporter METRICS = InMemoryReporter.create();

    @RegisterExtension
    static final InternalMiniClusterExtension FLINK =
            new InternalMiniClusterExtension(MiniClusters.configuration(2, METRICS));

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private static final int REQUESTS = 20_000;
    private static final int KILLS = 4;

    /** Paced so that the stream lasts long enough to be hit several times (about 12 s). */
    private static final int REQUESTS_PER_SECOND = 1_700;

    /**
     * Every so many requests one carries a NaN, so the dead-letter topic is part of the
     * transactions.
     */
    private static final int NAN_EVERY = 97;

    @Test
    void everyRequestHasExactlyOneOutcomeThoughTheTaskManagerIsKilledAtRandomPoints()
            throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        MiniCluster cluster = FLINK.getMiniCluster();
        Path model = TestModels.path(TestModels.MLP);
        Properties client = KAFKA.clientProperties();
        KAFKA.createTopics(2, "eo-requests", "eo-results", "eo-dead-letter");
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 50);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        TestStreamEnvironment env =
                new TestStreamEnvironment(cluster, conf, 2, List.of(), List.of());
        // No transaction.timeout.ms here on purpose: the job's default must suit a default broker.
        InferenceJob.builder()
                .setBootstrapServers(KAFKA.bootstrapServers())
                .setKafkaProperties(client)
                .setTopics("eo-requests", "eo-results", "eo-dead-letter")
                .setGroupId("eo")
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix("eo")
                .setCheckpointInterval(Duration.ofMillis(500))
                .setInference(
                        InferenceFunction.builder()
                                .setModel(model.toString())
                                .setRejectNonFinite(true)
                                .setMaxBatchSize(32)
                                .setMaxDelay(Duration.ofMillis(5)))
                .build()
                .addTo(env);
        JobClient job = env.executeAsync("exactly-once");

        ExecutorService sender = Executors.newSingleThreadExecutor();
        Map<String, Integer> seen = new HashMap<>();
        AtomicInteger results = new AtomicInteger();
        AtomicInteger deadLetters = new AtomicInteger();
        List<Integer> killAt = killPoints(random);
        int kills = 0;
        try (OutcomeReader reader =
                new OutcomeReader(client, "eo-results", "eo-dead-letter", true)) {
            Future<?> sending = sender.submit(() -> send(client, model));
            int liveTaskManager = 0;
            int seenAtLastKill = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(200);
            while (seen.size() < REQUESTS && System.nanoTime() < deadline) {
                reader.poll(
                        Duration.ofMillis(100),
                        outcome -> {
                            seen.merge(outcome.id(), 1, Integer::sum);
                            (outcome.result() != null ? results : deadLetters).incrementAndGet();
                            if (outcome.failure() != null) {
                                assertThat(outcome.failure().getCode())
                                        .as(outcome.id())
                                        .isEqualTo(ErrorCode.NON_FINITE_INPUT);
                            }
                        });
                // A kill waits for new commits since the last one, so the job makes progress
                // between kills.
                if (kills < KILLS
                        && seen.size() >= killAt.get(kills)
                        && seen.size() > seenAtLastKill) {
                    Thread.sleep(random.nextInt(500)); // anywhere in the checkpoint cycle
                    cluster.terminateTaskManager(liveTaskManager++).get(30, TimeUnit.SECONDS);
                    cluster.startTaskManager();
                    kills++;
                    seenAtLastKill = seen.size();
                }
            }
            sending.get(30, TimeUnit.SECONDS);
            // Anything committed twice would show up after the last first copy: read two more
            // checkpoints.
            long settle = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            while (System.nanoTime() < settle) {
                reader.poll(
                        Duration.ofMillis(100),
                        outcome -> {
                            seen.merge(outcome.id(), 1, Integer::sum);
                            (outcome.result() != null ? results : deadLetters).incrementAndGet();
                        });
            }
        } finally {
            sender.shutdownNow();
        }
        long restarts = restarts(job.getJobID());
        job.cancel().get(30, TimeUnit.SECONDS);

        List<String> duplicated =
                seen.entrySet().stream()
                        .filter(e -> e.getValue() > 1)
                        .map(Map.Entry::getKey)
                        .toList();
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            if (!seen.containsKey("r" + i)) {
                missing.add("r" + i);
            }
        }
        System.out.printf(
                "exactly-once: sent=%d results=%d dead-letter=%d duplicates=%d missing=%d"
                        + " restarts=%d task-managers-killed=%d (kill points %s, seed %d)%n",
                REQUESTS,
                results.get(),
                deadLetters.get(),
                duplicated.size(),
                missing.size(),
                restarts,
                kills,
                killAt,
                seed);

        assertThat(kills).as("task managers killed").isEqualTo(KILLS);
        assertThat(restarts).as("job restarts").isGreaterThanOrEqualTo(KILLS);
        assertThat(duplicated).as("ids with more than one outcome").isEmpty();
        assertThat(missing).as("ids without an outcome").isEmpty();
        assertThat(seen).hasSize(REQUESTS);
        assertThat(deadLetters.get()).isEqualTo((REQUESTS + NAN_EVERY - 1) / NAN_EVERY);
        assertThat(results.get() + deadLetters.get()).isEqualTo(REQUESTS);
    }

    /** Distinct outcome counts at which to kill, spread over the first 85% of the stream. */
    private static List<Integer> killPoints(Random random) {
        List<Integer> points = new ArrayList<>();
        for (int i = 0; i < KILLS; i++) {
            int from = REQUESTS / 20 + i * (REQUESTS * 8 / 10 / KILLS);
            points.add(from + random.nextInt(REQUESTS * 8 / 10 / KILLS));
        }
        return points;
    }

    private static Void send(Properties client, Path model) throws Exception {
        RandomRequests random = new RandomRequests(InferenceJobITCase.signature(model), 100, 5);
        long start = System.nanoTime();
        try (RequestProducer producer = new RequestProducer(client, "eo-requests")) {
            for (int i = 0; i < REQUESTS; i++) {
                InferenceRequest request = random.next("r" + i);
                if (i % NAN_EVERY == 0) {
                    request.getTensors()
                            .get(0)
                            .getData()
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putFloat(0, Float.NaN);
                }
                producer.send(request);
                long due = start + (long) i * 1_000_000_000L / REQUESTS_PER_SECOND;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
            producer.flush();
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static long restarts(JobID job) {
        return METRICS.findMetrics(job, "numRestarts").values().stream()
                .mapToLong(m -> ((Gauge<Long>) m).getValue())
                .max()
                .orElse(-1);
    }
}
