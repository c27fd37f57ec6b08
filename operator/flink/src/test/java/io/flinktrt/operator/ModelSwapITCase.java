package io.flinktrt.operator;

import io.flinktrt.backend.Backends;
import io.flinktrt.repository.RepositoryVersions;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model repository's versions swapped while records stream (ONNX Runtime, one subtask, ordered
 * output): version 2 dropped in mid-stream takes over at a checkpoint, pinning version 1 in
 * serving.properties rolls back at a later one. Every request is answered once, labelled with the
 * version the checkpoint rule predicts (the operator's input split where a checkpoint's barrier
 * passed), and answered as ONNX Runtime run directly on that version's file answers it.
 */
@Timeout(180)
class ModelSwapITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    private static final int REQUESTS = 4000;

    /** Records that had reached the operator when each checkpoint's barrier did. */
    private static final Map<Long, Long> SEEN_AT_CHECKPOINT = new ConcurrentHashMap<>();

    private static final List<InferenceOutcome> OUTCOMES = new CopyOnWriteArrayList<>();

    @Test
    void aNewVersionTakesOverAtACheckpointAndAPinRollsBack(@TempDir Path repository)
            throws Exception {
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        Map<String, InferenceRequest> sent = new HashMap<>();
        StreamExecutionEnvironment job = StreamExecutionEnvironment.getExecutionEnvironment();
        job.setParallelism(1);
        job.enableCheckpointing(150);
        InferenceFunction.builder()
                .setModelRepository(repository.toString(), "mlp")
                .setRepositoryPollInterval(Duration.ofMillis(50))
                .setBackend("onnxruntime")
                .setMaxBatchSize(16)
                .setMaxDelay(Duration.ofMillis(5))
                .setOrdered(true)
                .build()
                .applyTo(
                        job.fromData(requests(sent), RequestRecordTypeInfo.INSTANCE)
                                .map(new Paced())
                                .returns(RequestRecordTypeInfo.INSTANCE)
                                .map(new BarrierCounter())
                                .returns(RequestRecordTypeInfo.INSTANCE))
                .sinkTo(new Collecting());
        SEEN_AT_CHECKPOINT.clear();
        OUTCOMES.clear();
        var client = job.executeAsync("model swap");

        awaitResults(REQUESTS / 5);
        RepositoryVersions.addMlpVersion(repository, "mlp", 2);
        awaitVersion(2);
        awaitResults(OUTCOMES.size() + REQUESTS / 5);
        RepositoryVersions.writePolicy(repository, "mlp", "version=1\n");
        client.getJobExecutionResult().get(150, TimeUnit.SECONDS);

        assertThat(OUTCOMES).hasSize(REQUESTS);
        List<Long> versions = new ArrayList<>();
        Map<String, Integer> answered = new HashMap<>();
        for (InferenceOutcome outcome : OUTCOMES) {
            InferenceResult result = (InferenceResult) outcome.getOutcome();
            answered.merge(result.getId(), 1, Integer::sum);
            assertThat(result.getModel()).isEqualTo("mlp");
            versions.add(result.getModelVersion());
        }
        assertThat(answered).hasSize(REQUESTS).allSatisfy((id, n) -> assertThat(n).isOne());

        // in input order: version 1, then 2 from one checkpoint on, then 1 from a later one
        int toTwo = versions.indexOf(2L);
        int backToOne = versions.subList(toTwo, versions.size()).indexOf(1L) + toTwo;
        assertThat(toTwo).isPositive();
        assertThat(backToOne).isGreaterThan(toTwo);
        assertThat(versions.subList(0, toTwo)).containsOnly(1L);
        assertThat(versions.subList(toTwo, backToOne)).containsOnly(2L);
        assertThat(versions.subList(backToOne, versions.size())).containsOnly(1L);
        assertThat(SEEN_AT_CHECKPOINT.values())
                .as("each switch falls where a checkpoint's barrier passed the operator")
                .contains((long) toTwo, (long) backToOne);

        List<InferenceResult> results = new ArrayList<>();
        OUTCOMES.forEach(outcome -> results.add((InferenceResult) outcome.getOutcome()));
        RepositoryVersions.assertAnswers(repository, "mlp", results, sent::get, 1e-5f);
    }

    private static void awaitResults(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (OUTCOMES.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(OUTCOMES.size()).isGreaterThanOrEqualTo(count);
    }

    private static void awaitVersion(long version) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (int i = OUTCOMES.size() - 1; i >= 0; i--) {
                InferenceResult result = (InferenceResult) OUTCOMES.get(i).getOutcome();
                if (result.getModelVersion() == version) {
                    return;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no result of version " + version + " within 60 s");
    }

    private static List<RequestRecord> requests(Map<String, InferenceRequest> sent)
            throws Exception {
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        RandomRequests random =
                new RandomRequests(
                        Backends.describe(Backends.AUTO, TestModels.path(TestModels.MLP)), 100, 11);
        List<RequestRecord> records = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            InferenceRequest request = random.next(String.format("r%05d", i));
            sent.put(request.getId(), request);
            records.add(RequestRecord.of(codec.encode(request)));
        }
        return records;
    }

    /** About 1,000 records a second, so that the stream outlasts the swaps. */
    private static final class Paced implements MapFunction<RequestRecord, RequestRecord> {
        @Override
        public RequestRecord map(RequestRecord record) throws Exception {
            Thread.sleep(1);
            return record;
        }
    }

    /** Chained before the operator: what it counted when a checkpoint's barrier passed it. */
    private static final class BarrierCounter
            implements MapFunction<RequestRecord, RequestRecord>, CheckpointedFunction {
        private long seen;

        @Override
        public RequestRecord map(RequestRecord record) {
            seen++;
            return record;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            SEEN_AT_CHECKPOINT.put(context.getCheckpointId(), seen);
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {}
    }

    /** Keeps the outcomes in arrival order where the test thread can watch them. */
    private static final class Collecting implements Sink<InferenceOutcome> {
        @Override
        public SinkWriter<InferenceOutcome> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(InferenceOutcome outcome, Context context) {
                    OUTCOMES.add(outcome);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
