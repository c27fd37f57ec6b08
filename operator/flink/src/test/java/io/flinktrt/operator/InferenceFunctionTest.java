package io.flinktrt.operator;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeOptions;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.GatedBackend;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.configuration.Configuration;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
        // No batch leaves before it is full: two batches of 5, whatever the timing.
        try (var harness =
                harness(
                        function(OnnxRuntimeBackend.NAME, 5, Duration.ofSeconds(20)),
                        OutputMode.ORDERED)) {
            harness.open();
            for (InferenceRequest request : sent) {
                harness.processElement(
                        new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            harness.endInput();
            outcomes = harness.extractOutputValues();
        }

        assertThat(outcomes).hasSize(10);
        try (OnnxReference reference = new OnnxReference(MODEL)) {
            for (int i = 0; i < sent.size(); i++) {
                InferenceResult result = (InferenceResult) outcomes.get(i).getOutcome();
                assertThat(result.getId()).isEqualTo(sent.get(i).getId());
                assertThat(result.getBackend()).isEqualTo(OnnxRuntimeBackend.NAME);
                assertThat(result.getBatchSize()).isEqualTo(5);
                reference.assertAnswers(sent.get(i), result.getOutputs(), 1e-5f);
            }
        }
    }

    /**
     * The batch never fills (max 64): it leaves once its oldest request has waited max delay, not
     * before.
     */
    @Test
    void aPartialBatchLeavesAfterMaxDelay() throws Exception {
        Duration maxDelay = Duration.ofMillis(50);
        try (var harness =
                harness(function(OnnxRuntimeBackend.NAME, 64, maxDelay), OutputMode.UNORDERED)) {
            harness.open();
            for (InferenceRequest request : randomRequests(3)) {
                harness.processElement(
                        new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            List<InferenceResult> results =
                    awaitOutputs(harness, 3).stream()
                            .map(o -> (InferenceResult) o.getOutcome())
                            .toList();
            assertThat(results).hasSize(3);
            long longestQueueMicros =
                    results.stream()
                            .mapToLong(r -> r.getTimings().getQueueMicros())
                            .max()
                            .orElse(0);
            assertThat(longestQueueMicros).isGreaterThanOrEqualTo(maxDelay.toNanos() / 1000);
        }
    }

    @Test
    void unorderedEmitsARejectionBeforeAHeldBatchOrderedWaitsForIt() throws Exception {
        for (OutputMode mode : new OutputMode[] {OutputMode.UNORDERED, OutputMode.ORDERED}) {
            GatedBackend.reset();
            GatedBackend.closeGate();
            try (var harness = harness(function(GatedBackend.NAME, 1, Duration.ZERO), mode)) {
                harness.open();
                harness.processElement(
                        new StreamRecord<>(
                                RequestRecord.of(requests.encode(randomRequests(1).get(0)))));
                harness.processElement(
                        new StreamRecord<>(
                                RequestRecord.of(
                                        new byte[] {42}))); // rejected at once, on the task thread
                GatedBackend.awaitBatchesStarted(1);
                runMailbox(harness); // what is ready is emitted now, in either mode
                if (mode == OutputMode.UNORDERED) {
                    assertThat(harness.extractOutputValues()).hasSize(1);
                    assertThat(failure(harness.extractOutputValues().get(0)).getCode())
                            .isEqualTo(ErrorCode.UNDECODABLE);
                } else {
                    assertThat(harness.extractOutputValues())
                            .as("the rejection waits behind the held request")
                            .isEmpty();
                }
                GatedBackend.openGate();
                harness.endInput();
                List<InferenceOutcome> outcomes = harness.extractOutputValues();
                assertThat(outcomes).hasSize(2);
                int resultIndex = mode == OutputMode.UNORDERED ? 1 : 0;
                assertThat(outcomes.get(resultIndex).getOutcome())
                        .isInstanceOf(InferenceResult.class);
                assertThat(outcomes.get(1 - resultIndex).getOutcome())
                        .isInstanceOf(InferenceFailure.class);
            }
        }
    }

    @Test
    void aBatchThatFailsSendsEachOfItsRequestsToTheDeadLetterTopic() throws Exception {
        GatedBackend.failBatches(true);
        List<InferenceRequest> sent = randomRequests(3);
        try (var harness =
                harness(
                        function(GatedBackend.NAME, 3, Duration.ofSeconds(2)),
                        OutputMode.ORDERED)) {
            harness.open();
            for (InferenceRequest request : sent) {
                harness.processElement(
                        new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            harness.endInput();
            List<InferenceOutcome> outcomes = harness.extractOutputValues();
            assertThat(outcomes).hasSize(3);
            for (int i = 0; i < 3; i++) {
                InferenceFailure failure = failure(outcomes.get(i));
                assertThat(failure.getCode()).isEqualTo(ErrorCode.BACKEND_ERROR);
                assertThat(failure.getId()).isEqualTo(sent.get(i).getId());
                assertThat(failure.getMessage()).contains("injected failure");
                assertThat(failure.getPayload())
                        .isEqualTo(ByteBuffer.wrap(requests.encode(sent.get(i))));
            }
        }
    }

    /**
     * A backend that fails any batch holding one bad row: only that request goes to the dead-letter
     * topic.
     */
    @Test
    void onlyTheRequestTheBackendFailsOnGoesToTheDeadLetterTopicTheRestOfItsBatchGetResults()
            throws Exception {
        float poison = 666f;
        GatedBackend.poisonRowsStartingWith(poison);
        List<InferenceRequest> sent = randomRequests(8);
        sent.get(3)
                .getTensors()
                .get(0)
                .getData()
                .duplicate()
                .order(ByteOrder.LITTLE_ENDIAN)
                .putFloat(0, poison);
        try (var harness =
                harness(
                        function(GatedBackend.NAME, 8, Duration.ofSeconds(20)),
                        OutputMode.ORDERED)) {
            harness.open();
            for (InferenceRequest request : sent) {
                harness.processElement(
                        new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            harness.endInput();
            List<InferenceOutcome> outcomes = harness.extractOutputValues();
            assertThat(outcomes).hasSize(8);
            for (int i = 0; i < 8; i++) {
                if (i == 3) {
                    InferenceFailure failure = failure(outcomes.get(i));
                    assertThat(failure.getCode()).isEqualTo(ErrorCode.BACKEND_ERROR);
                    assertThat(failure.getId()).isEqualTo(sent.get(i).getId());
                    assertThat(failure.getMessage()).contains("alone").contains("injected failure");
                } else {
                    assertThat(outcomes.get(i).getOutcome())
                            .as("request %d", i)
                            .isInstanceOf(InferenceResult.class);
                }
            }
        }
    }

    @Test
    void aTimedOutRequestGoesToTheDeadLetterTopicOnceAndTheJobGoesOn() throws Exception {
        GatedBackend.closeGate();
        InferenceFunction<RequestRecord, InferenceOutcome> function =
                InferenceFunction.builder()
                        .setModel(MODEL.toString())
                        .setBackend(GatedBackend.NAME)
                        .setMaxBatchSize(1)
                        .setMaxDelay(Duration.ZERO)
                        .setTimeout(Duration.ofMillis(100))
                        .build();
        try (var harness =
                new OneInputStreamOperatorTestHarness<>(
                        new AsyncWaitOperatorFactory<>(function, 100, 10, OutputMode.UNORDERED),
                        RequestRecordTypeInfo.Serializer.INSTANCE)) {
            harness.open();
            InferenceRequest request = randomRequests(1).get(0);
            harness.setProcessingTime(0);
            harness.processElement(
                    new StreamRecord<>(RequestRecord.of(requests.encode(request)), 0));
            harness.setProcessingTime(200);
            InferenceFailure failure = failure(awaitOutputs(harness, 1).get(0));
            assertThat(failure.getCode()).isEqualTo(ErrorCode.TIMEOUT);
            assertThat(failure.getId()).isEqualTo(request.getId());

            GatedBackend.openGate(); // the late result must not be emitted a second time
            InferenceRequest next = randomRequests(2).get(1);
            harness.processElement(
                    new StreamRecord<>(RequestRecord.of(requests.encode(next)), 200));
            harness.endInput();
            List<InferenceOutcome> outcomes = harness.extractOutputValues();
            assertThat(outcomes).hasSize(2);
            assertThat(((InferenceResult) outcomes.get(1).getOutcome()).getId())
                    .isEqualTo(next.getId());
        }
    }

    @Test
    void requestsInFlightAtASnapshotAreReplayedAfterRestore() throws Exception {
        GatedBackend.closeGate();
        List<InferenceRequest> sent = randomRequests(5);
        OperatorSubtaskState snapshot;
        try (var harness =
                harness(
                        function(GatedBackend.NAME, 2, Duration.ofSeconds(2)),
                        OutputMode.ORDERED)) {
            harness.open();
            for (InferenceRequest request : sent) {
                harness.processElement(
                        new StreamRecord<>(RequestRecord.of(requests.encode(request))));
            }
            GatedBackend.awaitBatchesStarted(2); // 2 + 2 held at the gate, 1 waiting to fill
            assertThat(GatedBackend.batchesStarted()).isEqualTo(2);
            snapshot = harness.snapshot(1, 1);
            assertThat(harness.extractOutputValues()).isEmpty();
        }

        GatedBackend.reset();
        try (var restored =
                harness(
                        function(GatedBackend.NAME, 2, Duration.ofSeconds(2)),
                        OutputMode.ORDERED)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.endInput();
            List<String> ids =
                    restored.extractOutputValues().stream()
                            .map(o -> ((InferenceResult) o.getOutcome()).getId())
                            .toList();
            assertThat(ids)
                    .containsExactlyElementsOf(sent.stream().map(InferenceRequest::getId).toList());
        }
    }

    /**
     * A batch is formed when a buffer set is free, from every request that waited for it, not one
     * small batch per max-delay (each padded to its bucket on a GPU).
     */
    @Test
    void requestsThatWaitedForABusyBackendRunAsOneBatch() throws Exception {
        GatedBackend.closeGate();
        List<InferenceRequest> sent = randomRequests(8);
        InferenceFunction<RequestRecord, InferenceOutcome> function =
                InferenceFunction.builder()
                        .setModel(MODEL.toString())
                        .setBackend(GatedBackend.NAME)
                        .setMaxBatchSize(8)
                        .setMaxDelay(Duration.ZERO)
                        .setBuffersInFlight(1)
                        .build();
        try (var harness = harness(function, OutputMode.ORDERED)) {
            harness.open();
            harness.processElement(
                    new StreamRecord<>(RequestRecord.of(requests.encode(sent.get(0)))));
            GatedBackend.awaitBatchesStarted(1); // it holds the only buffer set, at the gate
            for (int i = 1; i < sent.size(); i++) {
                harness.processElement(
                        new StreamRecord<>(RequestRecord.of(requests.encode(sent.get(i)))));
            }
            GatedBackend.openGate();
            harness.endInput();
            List<Integer> batchSizes =
                    harness.extractOutputValues().stream()
                            .map(o -> ((InferenceResult) o.getOutcome()).getBatchSize())
                            .toList();
            assertThat(batchSizes).containsExactly(1, 7, 7, 7, 7, 7, 7, 7);
            assertThat(GatedBackend.batchesStarted()).isEqualTo(2);
        }
    }

    /** fromConfiguration takes the backend's settings too: a wrong one stops the slot's open. */
    @Test
    void backendSettingsInTheConfigurationReachTheBackend() throws Exception {
        Configuration config = new Configuration();
        config.set(InferenceOptions.MODEL, MODEL.toString());
        config.set(InferenceOptions.BACKEND, OnnxRuntimeBackend.NAME);
        config.setString(OnnxRuntimeOptions.INTRA_OP_THREADS.key(), "many");
        InferenceFunction<RequestRecord, InferenceOutcome> function =
                InferenceFunction.builder().fromConfiguration(config).build();
        try (var harness = harness(function, OutputMode.ORDERED)) {
            assertThatThrownBy(harness::open)
                    .hasStackTraceContaining(OnnxRuntimeOptions.INTRA_OP_THREADS.key())
                    .hasStackTraceContaining("must be a whole number");
        }
    }

    private static InferenceFailure failure(InferenceOutcome outcome) {
        assertThat(outcome.getOutcome()).isInstanceOf(InferenceFailure.class);
        return (InferenceFailure) outcome.getOutcome();
    }

    private static InferenceFunction<RequestRecord, InferenceOutcome> function(
            String backend, int maxBatch, Duration maxDelay) {
        return InferenceFunction.builder()
                .setModel(MODEL.toString())
                .setBackend(backend)
                .setMaxBatchSize(maxBatch)
                .setMaxDelay(maxDelay)
                .build();
    }

    private static OneInputStreamOperatorTestHarness<RequestRecord, InferenceOutcome> harness(
            InferenceFunction<RequestRecord, InferenceOutcome> function, OutputMode mode)
            throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new AsyncWaitOperatorFactory<>(function, 30_000, 20, mode),
                RequestRecordTypeInfo.Serializer.INSTANCE);
    }

    /** Lets the harness's mailbox run until {@code count} outcomes are out. */
    private static List<InferenceOutcome> awaitOutputs(
            OneInputStreamOperatorTestHarness<RequestRecord, InferenceOutcome> harness, int count)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (harness.extractOutputValues().size() < count && System.nanoTime() < deadline) {
            runMailbox(harness);
            Thread.sleep(5);
        }
        return new ArrayList<>(harness.extractOutputValues());
    }

    /** Runs the mails waiting now: completions reach the output through the task's mailbox. */
    private static void runMailbox(
            OneInputStreamOperatorTestHarness<RequestRecord, InferenceOutcome> harness)
            throws Exception {
        for (var mail = harness.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY);
                mail.isPresent();
                mail = harness.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY)) {
            mail.get().run();
        }
    }

    private static List<InferenceRequest> randomRequests(int n) throws Exception {
        ModelSignature signature;
        try (var runner =
                new OnnxRuntimeBackend().open(new ModelConfig(MODEL, 0, 0, 1, Map.of()))) {
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
