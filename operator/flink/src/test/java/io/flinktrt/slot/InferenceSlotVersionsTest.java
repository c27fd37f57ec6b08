package io.flinktrt.slot;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.repository.ModelRepository;
import io.flinktrt.repository.RepositoryVersions;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.testing.TestModels;

import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The slot's side of model versions, on ONNX Runtime: when a version takes over, and which. */
class InferenceSlotVersionsTest {

    @TempDir Path repository;

    /** Binds nothing: these tests route, they do not run records. */
    private static final class NoRows implements RowCodec<Object, Object> {
        @Override
        public void putRow(Object record, BatchBuffers buffers, int row) {}

        @Override
        public Object readRow(Object record, BatchBuffers buffers, int row, BatchInfo batch) {
            return record;
        }
    }

    private InferenceSlot<Object, Object> open(Duration poll) throws Exception {
        return InferenceSlot.open(
                new RepositorySlotSettings("onnxruntime", repository.toString(), poll, 8),
                null,
                0,
                List.of(),
                new UnregisteredMetricsGroup(),
                () -> 0,
                (signature, backend, served) -> new NoRows());
    }

    private static long primaryVersion(InferenceSlot<?, ?> slot) {
        return slot.primary().served().version();
    }

    @Test
    void aNewVersionWaitsForTheCheckpointBoundary() throws Exception {
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        try (InferenceSlot<Object, Object> slot = open(Duration.ofMillis(20))) {
            RepositoryVersions.addMlpVersion(repository, "mlp", 2);
            Thread.sleep(500); // the watcher has had 25 polls to prepare it

            assertThat(primaryVersion(slot)).isEqualTo(1);
            slot.checkpointBoundary(7);
            assertThat(primaryVersion(slot)).isEqualTo(2);
            assertThat(slot.primary().served()).isEqualTo(new ServedModel("mlp", 2));
        }
    }

    @Test
    void aVersionTakingOtherInputsIsNotServed() throws Exception {
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        try (InferenceSlot<Object, Object> slot = open(Duration.ofMillis(20))) {
            Path two = Files.createDirectories(repository.resolve("mlp/2"));
            Files.copy(
                    TestModels.path(TestModels.TWO_IN_TWO_OUT),
                    two.resolve(ModelRepository.ONNX_FILE));
            Thread.sleep(500);

            slot.checkpointBoundary(1);
            assertThat(primaryVersion(slot)).isEqualTo(1);
        }
    }

    @Test
    void aCanaryTakesItsShareOfIdsAndIsDroppedByThePolicy() throws Exception {
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        RepositoryVersions.addMlpVersion(repository, "mlp", 2);
        RepositoryVersions.writePolicy(
                repository, "mlp", "version=1\ncanary.version=2\ncanary.fraction=0.3\n");
        try (InferenceSlot<Object, Object> slot = open(Duration.ofMillis(20))) {
            long canary =
                    IntStream.range(0, 10_000)
                            .filter(i -> slot.route("id-" + i).served().version() == 2)
                            .count();
            assertThat(canary).isBetween(2_800L, 3_200L);
            assertThat(slot.route(null).served().version()).isEqualTo(1);

            RepositoryVersions.writePolicy(repository, "mlp", "version=1\n");
            awaitBoundarySwap(slot);
            assertThat(
                            IntStream.range(0, 1000)
                                    .allMatch(i -> slot.route("id-" + i).served().version() == 1))
                    .isTrue();
        }
    }

    /** Calls checkpoint boundaries until every id goes to the primary (at most 10 s). */
    private static void awaitBoundarySwap(InferenceSlot<Object, Object> slot)
            throws InterruptedException {
        ServedVersion<Object, Object> primary = slot.primary();
        for (int checkpoint = 1; checkpoint < 1000; checkpoint++) {
            slot.checkpointBoundary(checkpoint);
            if (IntStream.range(0, 100).allMatch(i -> slot.route("id-" + i) == primary)) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the policy's change did not take over");
    }
}
