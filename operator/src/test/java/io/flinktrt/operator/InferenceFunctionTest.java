package io.flinktrt.operator;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.GatedBackend;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The function inside Flink's real AsyncWaitOperator, driven through the operator test harness. */
@Timeout(120)
class InferenceFunctionTest {

    private static final Path MODEL = TestModels.path(TestModels.TWO_IN_TWO_OUT);
    private final AvroCodec<InferenceRequest> requests = new AvroCodec<>(InferenceRequest.class);

    @BeforeEach
    void resetGate() {
        GatedBackend.reset();
    }

    @AfterEach
    void openGate() {
        GatedBackend.openGate();
    }

    @Test
    void batchesBySizeAndMatchesOnnxRuntimeRunDirectly() throws Exception {
        List<InferenceRequest> sent = randomRequests(10);
        List<InferenceOutcome> outcomes;
        try (var harness = harness(function(OnnxRuntimeBackend.NAME, 4, Duration.ofMillis(500)), OutputMode.ORDERED)) {
            harness.open();
            for (InferenceRequest request : sent) {
                harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            harness.endInput(); // waits for the last, partial batch to leave after max delay
            outcomes = harness.extractOutputValues();
        }

        assertThat(outcomes).hasSize(10);
        try (OnnxReference reference = new OnnxReference(MODEL)) {
            for (int i = 0; i < sent.size(); i++) {
                InferenceResult result = (InferenceResult) outcomes.get(i).getOutcome();
                assertThat(result.getId()).isEqualTo(sent.get(i).getId());
                assertThat(result.getBackend()).isEqualTo(OnnxRuntimeBackend.NAME);
                assertThat(result.getBatchSize()).isEqualTo(i < 8 ? 4 : 2);
                Map<String, float[]> expected = reference.run(sent.get(i));
                for (Tensor output : result.getOutputs()) {
                    float[] want = expected.get(output.getName());
                    float[] got = OnnxReference.floats(output);
                    assertThat(got).hasSameSizeAs(want);
                    for (int k = 0; k < want.length; k++) {
                        assertThat(got[k]).isCloseTo(want[k], within(1e-5f));
                    }
                }
            }
        }
    }

    @Test
    void aPartialBatchLeavesAfterMaxDelay() throws Exception {
        try (var harness = harness(function(OnnxRuntimeBackend.NAME, 64, Duration.ofMillis(20)), OutputMode.UNORDERED)) {
            harness.open();
            for (InferenceRequest request : randomRequests(3)) {
                harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            List<InferenceOutcome> outcomes = awaitOutputs(harness, 3);
            assertThat(outcomes).allSatisfy(o -> assertThat(((InferenceResult) o.getOutcome()).getBatchSize()).isEqualTo(3));
        }
    }

    @Test
    void unorderedEmitsARejectionBeforeAHeldBatchOrderedWaitsForIt() throws Exception {
        for (OutputMode mode : new OutputMode[] {OutputMode.UNORDERED, OutputMode.ORDERED}) {
            GatedBackend.reset();
            GatedBackend.closeGate();
            try (var harness = harness(function(GatedBackend.NAME, 1, Duration.ZERO), mode)) {
                harness.open();
                harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(randomRequests(1).get(0)))));
                harness.processElement(new StreamRecord<>(RequestRecord.of(new byte[] {42})));
                if (mode == OutputMode.UNORDERED) {
                    assertThat(failure(awaitOutputs(harness, 1).get(0)).getCode()).isEqualTo(ErrorCode.UNDECODABLE);
                } else {
                    Thread.sleep(200); // the rejection is ready, but must wait behind the held request
                    assertThat(harness.extractOutputValues()).isEmpty();
                }
                GatedBackend.openGate();
                harness.endInput();
                List<InferenceOutcome> outcomes = harness.extractOutputValues();
                assertThat(outcomes).hasSize(2);
                int resultIndex = mode == OutputMode.UNORDERED ? 1 : 0;
                assertThat(outcomes.get(resultIndex).getOutcome()).isInstanceOf(InferenceResult.class);
                assertThat(outcomes.get(1 - resultIndex).getOutcome()).isInstanceOf(InferenceFailure.class);
            }
        }
    }

    @Test
    void aBatchThatFailsSendsEachOfItsRequestsToTheDeadLetterTopic() throws Exception {
        GatedBackend.failBatches(true);
        List<InferenceRequest> sent = randomRequests(3);
        try (var harness = harness(function(GatedBackend.NAME, 3, Duration.ofSeconds(2)), OutputMode.ORDERED)) {
            harness.open();
            for (InferenceRequest request : sent) {
                harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            harness.endInput();
            List<InferenceOutcome> outcomes = harness.extractOutputValues();
            assertThat(outcomes).hasSize(3);
            for (int i = 0; i < 3; i++) {
                InferenceFailure failure = failure(outcomes.get(i));
                assertThat(failure.getCode()).isEqualTo(ErrorCode.BACKEND_ERROR);
                assertThat(failure.getId()).isEqualTo(sent.get(i).getId());
                assertThat(failure.getMessage()).contains("injected failure");
                assertThat(failure.getPayload()).isEqualTo(java.nio.ByteBuffer.wrap(requests.encode(sent.get(i))));
            }
        }
    }

    @Test
    void aTimedOutRequestGoesToTheDeadLetterTopicOnceAndTheJobGoesOn() throws Exception {
        GatedBackend.closeGate();
        InferenceFunction<RequestRecord, InferenceOutcome> function = InferenceFunction.builder().setModel(MODEL.toString()).setBackend(GatedBackend.NAME)
                .setMaxBatchSize(1).setMaxDelay(Duration.ZERO).setTimeout(Duration.ofMillis(100)).build();
        try (var harness = new OneInputStreamOperatorTestHarness<>(
                new AsyncWaitOperatorFactory<>(function, 100, 10, OutputMode.UNORDERED),
                RequestRecordTypeInfo.Serializer.INSTANCE)) {
            harness.open();
            InferenceRequest request = randomRequests(1).get(0);
            harness.setProcessingTime(0);
            harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(request)), 0));
            harness.setProcessingTime(200);
            InferenceFailure failure = failure(awaitOutputs(harness, 1).get(0));
            assertThat(failure.getCode()).isEqualTo(ErrorCode.TIMEOUT);
            assertThat(failure.getId()).isEqualTo(request.getId());

            GatedBackend.openGate(); // the late result must not be emitted a second time
            InferenceRequest next = randomRequests(2).get(1);
            harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(next)), 200));
            harness.endInput();
            List<InferenceOutcome> outcomes = harness.extractOutputValues();
            assertThat(outcomes).hasSize(2);
            assertThat(((InferenceResult) outcomes.get(1).getOutcome()).getId()).isEqualTo(next.getId());
        }
    }

    @Test
    void requestsInFlightAtASnapshotAreReplayedAfterRestore() throws Exception {
        GatedBackend.closeGate();
        List<InferenceRequest> sent = randomRequests(5);
        OperatorSubtaskState snapshot;
        try (var harness = harness(function(GatedBackend.NAME, 2, Duration.ofSeconds(2)), OutputMode.ORDERED)) {
            harness.open();
            for (InferenceRequest request : sent) {
                harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            awaitBatchesStarted(2); // 2 + 2 held at the gate, 1 waiting to fill
            assertThat(GatedBackend.batchesStarted()).isEqualTo(2);
            snapshot = harness.snapshot(1, 1);
            assertThat(harness.extractOutputValues()).isEmpty();
        }

        GatedBackend.reset();
        try (var restored = harness(function(GatedBackend.NAME, 2, Duration.ofSeconds(2)), OutputMode.ORDERED)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.endInput();
            List<String> ids = restored.extractOutputValues().stream()
                    .map(o -> ((InferenceResult) o.getOutcome()).getId()).toList();
            assertThat(ids).containsExactlyElementsOf(sent.stream().map(InferenceRequest::getId).toList());
        }
    }

    /**
     * Small batches that leave at max delay while every buffer set is busy run as one batch when a
     * set frees up, not one by one (each padded to its bucket on a GPU).
     */
    @Test
    void batchesThatWaitedForABusyBackendRunTogether() throws Exception {
        GatedBackend.closeGate();
        List<InferenceRequest> sent = randomRequests(8);
        InferenceFunction<RequestRecord, InferenceOutcome> function = InferenceFunction.builder().setModel(MODEL.toString()).setBackend(GatedBackend.NAME)
                .setMaxBatchSize(8).setMaxDelay(Duration.ofMillis(20)).setBuffersInFlight(1).build();
        try (var harness = harness(function, OutputMode.ORDERED)) {
            harness.open();
            for (int i = 0; i < sent.size(); i += 2) { // four batches of two, each leaving at max delay
                harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(sent.get(i)))));
                harness.processElement(new StreamRecord<>(RequestRecord.of(requests.encode(sent.get(i + 1)))));
                Thread.sleep(100);
            }
            awaitBatchesStarted(1);
            assertThat(GatedBackend.batchesStarted()).as("the first batch holds the only buffer set").isEqualTo(1);
            GatedBackend.openGate();
            harness.endInput();
            List<Integer> batchSizes = harness.extractOutputValues().stream()
                    .map(o -> ((InferenceResult) o.getOutcome()).getBatchSize()).toList();
            assertThat(batchSizes).containsExactly(2, 2, 6, 6, 6, 6, 6, 6);
            assertThat(GatedBackend.batchesStarted()).isEqualTo(2);
        }
    }

    private static InferenceFailure failure(InferenceOutcome outcome) {
        assertThat(outcome.getOutcome()).isInstanceOf(InferenceFailure.class);
        return (InferenceFailure) outcome.getOutcome();
    }

    private static InferenceFunction<RequestRecord, InferenceOutcome> function(String backend, int maxBatch, Duration maxDelay) {
        return InferenceFunction.builder().setModel(MODEL.toString()).setBackend(backend)
                .setMaxBatchSize(maxBatch).setMaxDelay(maxDelay).build();
    }

    private static OneInputStreamOperatorTestHarness<RequestRecord, InferenceOutcome> harness(
            InferenceFunction<RequestRecord, InferenceOutcome> function, OutputMode mode) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new AsyncWaitOperatorFactory<>(function, 30_000, 20, mode), RequestRecordTypeInfo.Serializer.INSTANCE);
    }

    /** Batches start on the function's dispatcher thread, a moment after the task handed them on. */
    private static void awaitBatchesStarted(int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (GatedBackend.batchesStarted() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /** Lets the harness's mailbox run until {@code count} outcomes are out. */
    private static List<InferenceOutcome> awaitOutputs(
            OneInputStreamOperatorTestHarness<RequestRecord, InferenceOutcome> harness, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (harness.extractOutputValues().size() < count && System.nanoTime() < deadline) {
            for (var mail = harness.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY); mail.isPresent();
                    mail = harness.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY)) {
                mail.get().run(); // completions reach the output through the task's mailbox
            }
            Thread.sleep(5);
        }
        return new ArrayList<>(harness.extractOutputValues());
    }

    private static List<InferenceRequest> randomRequests(int n) throws Exception {
        ModelSignature signature;
        try (var runner = new OnnxRuntimeBackend().open(
                new io.flinktrt.backend.ModelConfig(MODEL, 0, 0, 1, Map.of()))) {
            signature = runner.signature();
        }
        RandomRequests random = new RandomRequests(signature, 100, n);
        List<InferenceRequest> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(random.next("req-" + i));
        }
        return list;
    }
}
