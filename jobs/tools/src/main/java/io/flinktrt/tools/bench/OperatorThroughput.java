package io.flinktrt.tools.bench;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRecordTypeInfo;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The inference operator inside a local Flink, fed from memory (no Kafka): a sequence source turned
 * into pre-encoded requests, the operator, and a sink that only counts.
 */
final class OperatorThroughput {

    /** Distinct requests each source subtask cycles through. */
    private static final int DISTINCT_REQUESTS = 64;

    private static final AtomicLong RESULTS = new AtomicLong();
    private static final AtomicLong FIRST_NANOS = new AtomicLong();
    private static final AtomicLong LAST_NANOS = new AtomicLong();

    private OperatorThroughput() {}

    /**
     * The requests {@link GivenRequests} cycles through: a static, as Flink instantiates the
     * function itself and the local cluster shares this JVM (megabytes of payloads would otherwise
     * travel inside the job graph).
     */
    private static volatile List<byte[]> given = List.of();

    /** Records per second from the first result to the last, over {@code records} requests. */
    static double recordsPerSecond(
            ModelSignature signature,
            InferenceFunctionBuilder inference,
            int parallelism,
            long records)
            throws Exception {
        return recordsPerSecond(new CachedRequests(signature), inference, parallelism, records);
    }

    /**
     * The same, over {@code payloads} (encoded requests) sent in order, from the first again after
     * the last.
     */
    static double recordsPerSecond(
            List<byte[]> payloads,
            InferenceFunctionBuilder inference,
            int parallelism,
            long records)
            throws Exception {
        given = payloads;
        return recordsPerSecond(new GivenRequests(), inference, parallelism, records);
    }

    private static double recordsPerSecond(
            MapFunction<Long, RequestRecord> requests,
            InferenceFunctionBuilder inference,
            int parallelism,
            long records)
            throws Exception {
        RESULTS.set(0);
        FIRST_NANOS.set(0);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism, new Configuration());
        env.getConfig().enableObjectReuse(); // as the job does
        InferenceFunction<RequestRecord, InferenceOutcome> function = inference.build();
        function.applyTo(
                        env.fromSequence(0, records - 1)
                                .map(requests)
                                .returns(RequestRecordTypeInfo.INSTANCE))
                .map(new CountResults())
                .sinkTo(new DiscardingSink<>());
        env.execute("flink-tensorrt bench: operator");
        if (RESULTS.get() != records) {
            throw new IllegalStateException(
                    "Only " + RESULTS.get() + " of " + records + " requests got a result");
        }
        return (records - 1) / ((LAST_NANOS.get() - FIRST_NANOS.get()) / 1e9);
    }

    private static final class CachedRequests extends RichMapFunction<Long, RequestRecord> {
        private final ModelSignature signature;
        private transient RequestRecord[] payloads;

        CachedRequests(ModelSignature signature) {
            this.signature = signature;
        }

        @Override
        public void open(OpenContext context) {
            RandomRequests random =
                    new RandomRequests(
                            signature,
                            100,
                            getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
            AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
            payloads = new RequestRecord[DISTINCT_REQUESTS];
            for (int i = 0; i < DISTINCT_REQUESTS; i++) {
                payloads[i] = RequestRecord.of(codec.encode(random.next("bench-" + i)));
            }
        }

        @Override
        public RequestRecord map(Long i) {
            return payloads[(int) (i % DISTINCT_REQUESTS)];
        }
    }

    private static final class GivenRequests implements MapFunction<Long, RequestRecord> {
        @Override
        public RequestRecord map(Long i) {
            List<byte[]> payloads = given;
            return RequestRecord.of(payloads.get((int) (i % payloads.size())));
        }
    }

    private static final class CountResults implements MapFunction<InferenceOutcome, Boolean> {
        @Override
        public Boolean map(InferenceOutcome outcome) {
            if (!(outcome.getOutcome() instanceof InferenceResult)) {
                throw new IllegalStateException("A bench request failed: " + outcome.getOutcome());
            }
            long now = System.nanoTime();
            FIRST_NANOS.compareAndSet(0, now);
            LAST_NANOS.accumulateAndGet(now, Math::max);
            RESULTS.incrementAndGet();
            return Boolean.TRUE;
        }
    }
}
