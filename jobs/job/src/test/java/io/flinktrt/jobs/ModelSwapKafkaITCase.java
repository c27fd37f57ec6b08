package io.flinktrt.jobs;

import io.flinktrt.backend.Backends;
import io.flinktrt.jobs.cli.RunCommand;
import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.SteadyRequests;
import io.flinktrt.jobs.kafka.StreamOutcomes;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.repository.RepositoryVersions;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka job serving a model repository while requests stream in: its operator as {@code run
 * --model-repository DIR --model-name mlp --repository-poll-ms 100 --backend onnxruntime} builds
 * it, EXACTLY_ONCE delivery, a checkpoint every 300 ms, two input partitions read at parallelism 2.
 * Version 2 is dropped into the repository mid-stream; once its results are committed in both
 * partitions, version 1 is pinned again in serving.properties; once version 1's results are back in
 * both, a last stretch of requests is sent. Every request must then be answered exactly once
 * (results and dead letters read read_committed: no failure, no duplicate, none lost), by model
 * {@code mlp} in version 1 or 2, as ONNX Runtime run directly on that version's file answers it.
 *
 * <p>The order the versions are checked in is the input's, per input partition: the output topics
 * are partitioned by id and the async operator emits unordered, so the output's order says nothing,
 * and a result carries no source position; each result is put back where its request landed
 * (partition and offset, from the broker's acknowledgement). That order is deterministic: source
 * and operator run at the same parallelism, chained, so each partition is read in offset order by
 * one source subtask that feeds one operator subtask, which takes a new version at a checkpoint
 * barrier, between two records of its input. Whichever checkpoint each subtask swaps at, the
 * versions of each partition must therefore run 1, then 2, then 1, each switch happening once.
 */
@Timeout(240)
class ModelSwapKafkaITCase {

    private static final int PARTITIONS = 2;

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(PARTITIONS);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private static final int REQUESTS_PER_SECOND = 400;

    /** Requests sent after the rollback was seen, so that it serves a stretch of its own. */
    private static final int LAST_STRETCH = 400;

    @Test
    void versionTwoTakesOverMidStreamAndAPinBringsVersionOneBackEachRequestAnsweredOnce(
            @TempDir Path repository) throws Exception {
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        RunCommand flags = new RunCommand();
        new CommandLine(flags)
                .parseArgs(
                        "--model-repository",
                        repository.toString(),
                        "--model-name",
                        "mlp",
                        "--repository-poll-ms",
                        "100",
                        "--backend",
                        "onnxruntime",
                        "--max-batch",
                        "16",
                        "--max-delay-ms",
                        "5");
        RandomRequests random =
                new RandomRequests(
                        Backends.describe(Backends.AUTO, TestModels.path(TestModels.MLP)), 100, 13);
        long start = System.nanoTime();
        try (KafkaJobHarness run =
                        new KafkaJobHarness(
                                KAFKA,
                                "swap",
                                PARTITIONS,
                                InferenceFunction.builder()
                                        .fromConfiguration(flags.inference.toConfiguration()),
                                job ->
                                        job.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                                                .setTransactionalIdPrefix("swap")
                                                .setCheckpointInterval(Duration.ofMillis(300)));
                SteadyRequests requests =
                        new SteadyRequests(
                                run.producer, random, "swap-", REQUESTS_PER_SECOND, 60_000)) {
            StreamOutcomes outcomes = new StreamOutcomes(run.reader);
            outcomes.await(
                    "results of both partitions",
                    Duration.ofSeconds(120),
                    () -> requests.versionRuns(outcomes.results()).size() == PARTITIONS);
            RepositoryVersions.addMlpVersion(repository, "mlp", 2);
            outcomes.await(
                    "version 2 after version 1 in both partitions",
                    Duration.ofSeconds(60),
                    () -> inEveryPartition(requests, outcomes, List.of(1L, 2L)));
            RepositoryVersions.writePolicy(repository, "mlp", "version=1\n");
            outcomes.await(
                    "version 1 back after version 2 in both partitions",
                    Duration.ofSeconds(60),
                    () -> inEveryPartition(requests, outcomes, List.of(1L, 2L, 1L)));
            int sent = requests.stopAfter(LAST_STRETCH, Duration.ofSeconds(30));
            outcomes.await(
                    "an outcome of every request",
                    Duration.ofSeconds(60),
                    () -> outcomes.answered() >= sent);
            outcomes.readFor(Duration.ofMillis(1500)); // five checkpoints: a late duplicate shows
            assertThat(run.status()).as("the job, never restarted").isEqualTo(JobStatus.RUNNING);
            System.out.printf(
                    "model swap over Kafka: %d requests, %d results, %d dead letters, %d duplicates"
                            + " in %.1f s; versions per input partition %s%n",
                    sent,
                    outcomes.results().size(),
                    outcomes.failures().size(),
                    outcomes.duplicates().size(),
                    (System.nanoTime() - start) / 1e9,
                    requests.versionRuns(outcomes.results()));

            requests.assertAnsweredOnceInRuns(
                    outcomes, repository, "mlp", PARTITIONS, List.of(1L, 2L, 1L));
        }
    }

    private static boolean inEveryPartition(
            SteadyRequests requests, StreamOutcomes outcomes, List<Long> runs) throws Exception {
        Map<Integer, List<Long>> seen = requests.versionRuns(outcomes.results());
        return seen.size() == PARTITIONS && seen.values().stream().allMatch(runs::equals);
    }
}
