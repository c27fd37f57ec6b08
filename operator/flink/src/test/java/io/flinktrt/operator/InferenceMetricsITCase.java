package io.flinktrt.operator;

import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.testing.GatedBackend;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.ReportedMetrics;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The operator's metrics as a reporter sees them, after a bounded job on a real MiniCluster. */
@Timeout(120)
class InferenceMetricsITCase {

    /** Retains metrics after the job ends, so the bounded job can finish before they are read. */
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.withReporter(1, REPORTER);

    @Test
    void countsRequestsBatchesAndFailuresAndTimesEachStep() throws Exception {
        GatedBackend.reset();
        GatedBackend.padBatchesTo(
                4); // as a GPU's bucket of 4 would: 2 padding rows in the last batch
        int good = 10;
        int maxBatch = 4; // 10 requests: batches of 4 and 4 by size, then 2 after max delay
        Duration maxDelay =
                Duration.ofSeconds(2); // far above the time the source takes to send them all
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        RandomRequests random = new RandomRequests(BackpressureITCase.MLP, 100, 5);
        List<RequestRecord> payloads = new ArrayList<>();
        for (int i = 0; i < good; i++) {
            payloads.add(RequestRecord.of(codec.encode(random.next("m" + i))));
        }
        payloads.add(RequestRecord.of(new byte[] {42})); // not Avro: UNDECODABLE

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        DataStream<RequestRecord> requests = env.fromData(payloads, RequestRecordTypeInfo.INSTANCE);
        InferenceFunction.builder()
                .setModel(TestModels.path(TestModels.MLP).toString())
                .setBackend(GatedBackend.NAME)
                .setMaxBatchSize(maxBatch)
                .setMaxDelay(maxDelay)
                .build()
                .applyTo(requests)
                .sinkTo(new DiscardingSink<>());
        JobID job = env.execute("metrics").getJobID();

        ReportedMetrics metrics = new ReportedMetrics(REPORTER.getMetricsByIdentifiers(job));
        assertThat(metrics.counter("inference_count")).isEqualTo(good);
        assertThat(metrics.counter("inference_exec_count")).isEqualTo(3);
        assertThat(metrics.counter("code.UNDECODABLE.inference_request_failure")).isEqualTo(1);

        Histogram batchSize = metrics.histogram("batch_size");
        assertThat(batchSize.getCount()).isEqualTo(3);
        assertThat(batchSize.getStatistics().getMin()).isEqualTo(2);
        assertThat(batchSize.getStatistics().getMax()).isEqualTo(maxBatch);
        assertThat(metrics.histogram("compute_input_duration_us").getCount()).isEqualTo(3);
        assertThat(metrics.histogram("compute_infer_duration_us").getCount()).isEqualTo(3);
        assertThat(metrics.histogram("compute_output_duration_us").getCount()).isEqualTo(3);
        assertThat(metrics.histogram("queue_duration_us").getCount()).isEqualTo(good);
        Histogram requestMicros = metrics.histogram("request_duration_us");
        assertThat(requestMicros.getCount()).isEqualTo(good);
        // The last two requests waited for max delay before their batch left.
        assertThat(requestMicros.getStatistics().getMax())
                .isGreaterThanOrEqualTo(maxDelay.toNanos() / 1000);

        assertThat(metrics.gauge("pending_requests")).isEqualTo(0);
        assertThat((Double) metrics.gauge("padding_waste")).isCloseTo(2.0 / 12, within(1e-9));
    }

    @Test
    void countsRequestsThatTimedOutAndPendingGoesBackToZero() throws Exception {
        GatedBackend.reset();
        GatedBackend.closeGate(); // never answers: every request times out
        int requests = 3;
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        RandomRequests random = new RandomRequests(BackpressureITCase.MLP, 100, 6);
        List<RequestRecord> payloads = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            payloads.add(RequestRecord.of(codec.encode(random.next("t" + i))));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        InferenceFunction.builder()
                .setModel(TestModels.path(TestModels.MLP).toString())
                .setBackend(GatedBackend.NAME)
                .setMaxBatchSize(4)
                .setMaxDelay(Duration.ZERO)
                .setTimeout(Duration.ofMillis(300))
                .build()
                .applyTo(env.fromData(payloads, RequestRecordTypeInfo.INSTANCE))
                .sinkTo(new DiscardingSink<>());
        try {
            JobID job = env.execute("timeouts").getJobID();
            ReportedMetrics metrics = new ReportedMetrics(REPORTER.getMetricsByIdentifiers(job));
            assertThat(metrics.counter("code.TIMEOUT.inference_request_failure"))
                    .isEqualTo(requests);
            assertThat(metrics.counter("inference_count")).isZero();
            assertThat(metrics.gauge("pending_requests")).isEqualTo(0);
        } finally {
            GatedBackend.openGate();
        }
    }
}
