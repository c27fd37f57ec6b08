package io.flinktrt.operator;

import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A sink slower than the model, in a real MiniCluster: backpressure reaches the source, so the
 * records between source and sink never exceed the async operator's capacity, and none is lost.
 */
@Timeout(180)
class SlowSinkITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    private static final AtomicLong EMITTED = new AtomicLong();
    private static final AtomicLong SUNK = new AtomicLong();
    private static final AtomicLong MOST_AHEAD = new AtomicLong();
    private static final Set<String> IDS = ConcurrentHashMap.newKeySet();

    @Test
    void aSlowSinkHoldsBackTheSourceAndNothingIsLost() throws Exception {
        int n = 2000;
        int capacity = 16;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        InferenceFunction<RequestRecord, InferenceOutcome> function =
                InferenceFunction.builder()
                        .setModel(TestModels.path(TestModels.MLP).toString())
                        .setBackend(OnnxRuntimeBackend.NAME)
                        .setMaxBatchSize(8)
                        .setMaxDelay(Duration.ofMillis(5))
                        .setCapacity(capacity)
                        .build();
        function.applyTo(
                        env.fromSequence(0, n - 1)
                                .map(new CountedRequest())
                                .returns(RequestRecordTypeInfo.INSTANCE))
                .map(new SlowSink())
                .sinkTo(new DiscardingSink<>());

        env.execute("slow sink");

        assertThat(IDS).hasSize(n);
        System.out.printf(
                "slow sink: %d of %d results, at most %d records between source and sink (capacity %d)%n",
                IDS.size(), n, MOST_AHEAD.get(), capacity);
        assertThat(MOST_AHEAD.get())
                .isLessThanOrEqualTo(capacity + 1); // the queue plus the record being added
    }

    private static final class CountedRequest extends RichMapFunction<Long, RequestRecord> {
        private transient RandomRequests random;
        private transient AvroCodec<InferenceRequest> codec;

        @Override
        public RequestRecord map(Long i) {
            if (random == null) {
                random = new RandomRequests(BackpressureITCase.MLP, 100, 5);
                codec = new AvroCodec<>(InferenceRequest.class);
            }
            MOST_AHEAD.accumulateAndGet(EMITTED.incrementAndGet() - SUNK.get(), Math::max);
            return RequestRecord.of(codec.encode(random.next("r" + i)));
        }
    }

    private static final class SlowSink implements MapFunction<InferenceOutcome, Boolean> {
        @Override
        public Boolean map(InferenceOutcome outcome) throws InterruptedException {
            Thread.sleep(1);
            IDS.add(((InferenceResult) outcome.getOutcome()).getId());
            SUNK.incrementAndGet();
            return Boolean.TRUE;
        }
    }
}
