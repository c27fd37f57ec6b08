package io.flinktrt.operator;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.GatedBackend;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend slower than its source, in a real MiniCluster: the stream slows down, nothing is lost.
 */
@Timeout(180)
class BackpressureITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    /** The mlp_classifier's input, so the source needs no model file. */
    static final ModelSignature MLP =
            new ModelSignature(
                    "mlp_classifier",
                    "",
                    List.of(new TensorSpec("x", DataType.FLOAT32, new long[] {16})),
                    List.of(),
                    8);

    @Test
    void aSlowBackendHoldsAtMostItsBuffersAndEveryRequestComesBack() throws Exception {
        GatedBackend.reset();
        GatedBackend.delayEachBatch(Duration.ofMillis(2));
        int n = 3000;
        int maxBatch = 8;
        int buffers = 2;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        DataStream<RequestRecord> requests =
                env.fromSequence(0, n - 1)
                        .map(new ToRequest())
                        .returns(RequestRecordTypeInfo.INSTANCE);
        InferenceFunction<RequestRecord, InferenceOutcome> function =
                InferenceFunction.builder()
                        .setModel(TestModels.path(TestModels.MLP).toString())
                        .setBackend(GatedBackend.NAME)
                        .setMaxBatchSize(maxBatch)
                        .setMaxDelay(Duration.ofMillis(5))
                        .setBuffersInFlight(buffers)
                        .setCapacity(2 * maxBatch)
                        .build();

        List<String> ids;
        try (var results = function.applyTo(requests).executeAndCollect()) {
            ids = new ArrayList<>();
            results.forEachRemaining(
                    (InferenceOutcome o) -> ids.add(((InferenceResult) o.getOutcome()).getId()));
        }

        assertThat(ids).hasSize(n).doesNotHaveDuplicates();
        assertThat(GatedBackend.maxRowsInFlight()).isLessThanOrEqualTo(buffers * maxBatch);
        assertThat(GatedBackend.acquireWaits())
                .as("batches waited for a free buffer set")
                .isPositive();
    }

    private static final class ToRequest extends RichMapFunction<Long, RequestRecord> {
        private transient RandomRequests random;
        private transient AvroCodec<InferenceRequest> codec;

        @Override
        public RequestRecord map(Long i) {
            if (random == null) {
                random = new RandomRequests(MLP, 100, 3);
                codec = new AvroCodec<>(InferenceRequest.class);
            }
            return RequestRecord.of(codec.encode(random.next("r" + i)));
        }
    }
}
