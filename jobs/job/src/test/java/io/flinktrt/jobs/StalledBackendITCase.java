package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceOptions;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.testing.GatedBackend;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend that stops answering, behind the real job and Kafka: requests time out, the job lives
 * on.
 */
@Timeout(180)
class StalledBackendITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    @AfterEach
    void openGate() {
        GatedBackend.openGate();
    }

    @Test
    void
            whileTheBackendIsStalledRequestsTimeOutToTheDeadLetterTopicAndWhenItRecoversResultsFlowAgain()
                    throws Exception {
        GatedBackend.reset();
        GatedBackend.closeGate();
        Path model = TestModels.path(TestModels.MLP);
        RandomRequests random = new RandomRequests(InferenceJobITCase.signature(model), 100, 13);
        int stalled = 40;
        int after = 40;
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "stalled",
                        1,
                        InferenceFunction.builder()
                                .setModel(model.toString())
                                .setBackend(GatedBackend.NAME)
                                .setMaxBatchSize(4)
                                .setMaxDelay(Duration.ofMillis(5))
                                .setTimeout(Duration.ofSeconds(1)),
                        job -> job)) {
            for (int i = 0; i < stalled; i++) {
                run.producer.send(random.next("stalled-" + i));
            }
            run.producer.flush();

            // Every stalled request must come back as a TIMEOUT while the gate is still closed.
            Map<String, OutcomeReader.Outcome> timedOut =
                    run.readOutcomes(stalled, Duration.ofSeconds(60));
            assertThat(timedOut).hasSize(stalled);
            assertThat(timedOut.values())
                    .allSatisfy(
                            o -> {
                                assertThat(o.failure()).as(o.id()).isNotNull();
                                assertThat(o.failure().getCode())
                                        .as(o.id())
                                        .isEqualTo(ErrorCode.TIMEOUT);
                            });
            assertThat(run.status()).isEqualTo(JobStatus.RUNNING);
            int heldAtTheGate = GatedBackend.maxRowsInFlight();

            GatedBackend.openGate();
            for (int i = 0; i < after; i++) {
                run.producer.send(random.next("after-" + i));
            }
            run.producer.flush();
            // The late results of the stalled batches must not come back a second time:
            // readOutcomes fails on duplicates.
            Map<String, OutcomeReader.Outcome> recovered =
                    run.readOutcomes(after, Duration.ofSeconds(60));
            System.out.printf(
                    "stalled backend: %d timed out (at most %d rows held at the gate), then %d of %d"
                            + " results after it recovered%n",
                    timedOut.size(),
                    heldAtTheGate,
                    recovered.values().stream().filter(o -> o.result() != null).count(),
                    after);
            assertThat(recovered.keySet()).allMatch(id -> id.startsWith("after-"));
            assertThat(recovered.values())
                    .allSatisfy(o -> assertThat(o.result()).as(o.id()).isNotNull());
            // At most every buffer set holds a batch at the gate; the rest wait in the bounded
            // async queue.
            assertThat(heldAtTheGate)
                    .as("rows held by the stalled backend")
                    .isLessThanOrEqualTo(InferenceOptions.BUFFERS_IN_FLIGHT.defaultValue() * 4);
        }
    }
}
