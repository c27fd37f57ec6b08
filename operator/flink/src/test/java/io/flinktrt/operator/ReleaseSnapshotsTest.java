package io.flinktrt.operator;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Savepoints are a promise: the inference operator's state written by each release (its records in
 * flight, as Flink's async operator stores them) restores into this build, and every record gets
 * its result, as ONNX Runtime run directly gives it. One snapshot per release in
 * src/test/resources/release-snapshots (Flink's connectors keep such snapshots per version); a
 * release adds its own with {@link ReleaseSnapshotWriter} (docs/operations.md).
 */
class ReleaseSnapshotsTest {

    private static final Path MODEL = TestModels.path(TestModels.TWO_IN_TWO_OUT);
    private static final Path SNAPSHOTS = Path.of("src/test/resources/release-snapshots");

    /** What every snapshot holds: these requests, 2 batches held by the backend, 2 waiting. */
    static final int REQUESTS = 6;

    private static final long SEED = 2026;

    static Stream<Path> snapshots() throws Exception {
        return Files.list(SNAPSHOTS).sorted();
    }

    @ParameterizedTest
    @MethodSource("snapshots")
    void restoresAndAnswersEveryRecordInFlight(Path snapshot) throws Exception {
        OperatorSubtaskState state = OperatorSnapshotUtil.readStateHandle(snapshot.toString());
        List<InferenceOutcome> outcomes;
        try (var restored = harness(OnnxRuntimeBackend.NAME)) {
            restored.initializeState(state);
            restored.open();
            restored.endInput();
            outcomes = restored.extractOutputValues();
        }
        List<InferenceRequest> sent = requests();
        assertThat(outcomes).hasSize(REQUESTS);
        try (OnnxReference reference = new OnnxReference(MODEL)) {
            for (int i = 0; i < REQUESTS; i++) {
                InferenceResult result = (InferenceResult) outcomes.get(i).getOutcome();
                assertThat(result.getId()).isEqualTo(sent.get(i).getId());
                reference.assertAnswers(sent.get(i), result.getOutputs(), 1e-5f);
            }
        }
    }

    static List<InferenceRequest> requests() throws Exception {
        RandomRequests random =
                new RandomRequests(Backends.describe(Backends.AUTO, MODEL), 100, SEED);
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            requests.add(random.next("req-" + i));
        }
        return requests;
    }

    static OneInputStreamOperatorTestHarness<RequestRecord, InferenceOutcome> harness(
            String backend) throws Exception {
        InferenceFunction<RequestRecord, InferenceOutcome> function =
                InferenceFunction.builder()
                        .setModel(MODEL.toString())
                        .setBackend(backend)
                        .setMaxBatchSize(2)
                        .setMaxDelay(Duration.ofSeconds(2))
                        .build();
        return new OneInputStreamOperatorTestHarness<>(
                new AsyncWaitOperatorFactory<>(function, 30_000, 20, OutputMode.ORDERED),
                RequestRecordTypeInfo.Serializer.INSTANCE);
    }
}
