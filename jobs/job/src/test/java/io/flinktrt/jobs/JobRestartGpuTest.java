package io.flinktrt.jobs;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.GpuTestSupport;
import io.flinktrt.backend.tensorrt.TensorRtBackend;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRecordTypeInfo;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.flinktrt.backend.tensorrt.GpuTestSupport.MIB;
import static io.flinktrt.backend.tensorrt.GpuTestSupport.mib;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Job restarts on the GPU: a real Flink job (local MiniCluster) runs the MLP on TensorRT while a
 * map after the inference operator throws once per attempt, {@link #RESTARTS} times; every restart
 * closes the operator (runner, contexts, buffers and, as the only user, the engine) and opens it
 * again. GPU memory is read while the runner is open in each attempt and before and after the job:
 * the growth must stay near zero (before the C++ deletes, one cycle leaked hundreds of MB). The
 * attempt that is left alone must deliver every request. GPU tag; see docs/gpu.md.
 *
 * <p>{@code -Dflinktrt.restart.backend=onnxruntime} runs the same job on the CPU without the memory
 * readings, to check the restart mechanics on a machine without a GPU.
 */
@Tag("gpu")
@Timeout(300)
class JobRestartGpuTest {

    private static final int DEVICE = 0;
    static final int RESTARTS = 50;
    static final int REQUESTS = 2000;

    /** Outcomes an attempt sees before its injected failure: a few full batches ran. */
    static final int FAIL_AFTER = 96;

    private static final long BOUND = 64 * MIB;

    /**
     * The MLP's plan has a bucket this large, and the operator's max batch is it, so that one open
     * runner holds over 100 MiB (contexts and buffers): a cycle that leaked them would show at
     * once.
     */
    static final int MAX_BATCH = 1 << 18;

    static final String BACKEND =
            System.getProperty("flinktrt.restart.backend", TensorRtBackend.NAME);
    static final boolean ON_GPU = BACKEND.equals(TensorRtBackend.NAME);

    /** Free GPU memory sampled while the runner is open, by attempt number. */
    static final Map<Integer, Long> FREE_WHILE_OPEN = new ConcurrentSkipListMap<>();

    /**
     * Free GPU memory when an attempt starts, before the inference operator opens (Flink opens a
     * chain from its end), that is after the previous attempt's close: tells a leak at close from
     * memory held while open.
     */
    static final Map<Integer, Long> FREE_AT_START = new ConcurrentSkipListMap<>();

    /** Request ids of results, by attempt number. */
    static final Map<Integer, Set<String>> RESULTS = new ConcurrentHashMap<>();

    static final Set<String> BACKENDS = ConcurrentHashMap.newKeySet();
    static final List<String> FAILURES = new CopyOnWriteArrayList<>();

    @TempDir static Path dir;

    @Test
    void fiftyRestartsKeepGpuMemoryFlatAndTheLastAttemptDeliversEverything() throws Exception {
        Path model = TestModels.path(TestModels.MLP);
        if (ON_GPU) {
            System.out.println(GpuTestSupport.requireTensorRt());
            model =
                    GpuTestSupport.buildPlan(
                            model, dir.resolve("mlp_classifier.plan"), List.of(1, 32, MAX_BATCH));
            // One open/close outside the job first, so one-time costs (CUDA context, TensorRT's
            // own kernels) are in the baseline; it also shows what one open runner holds.
            long free = GpuTestSupport.freeBytes(DEVICE);
            try (ModelRunner runner =
                    new TensorRtBackend()
                            .open(new ModelConfig(model, DEVICE, MAX_BATCH, 2, Map.of()))) {
                GpuTestSupport.runOnce(runner, 32);
                System.out.printf(
                        "restart cycles: one open runner (2 lanes, max batch %d) holds %s of GPU memory%n",
                        MAX_BATCH, mib(free - GpuTestSupport.freeBytes(DEVICE)));
            }
        }
        long total = ON_GPU ? GpuTestSupport.totalBytes(DEVICE) : 0;
        long before = freeBytes();

        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTARTS);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(10));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        InferenceFunction<RequestRecord, InferenceOutcome> function =
                InferenceFunction.builder()
                        .setModel(model.toString())
                        .setBackend(BACKEND)
                        .setDevice(DEVICE)
                        .setMaxBatchSize(MAX_BATCH)
                        .setMaxDelay(Duration.ofMillis(5))
                        .setBuffersInFlight(2)
                        .setCapacity(128)
                        .setTimeout(Duration.ofSeconds(60))
                        .build();
        function.applyTo(
                        env.fromSequence(0, REQUESTS - 1)
                                .map(new Request())
                                .returns(RequestRecordTypeInfo.INSTANCE))
                .map(new FailEveryAttemptButTheLast())
                .sinkTo(new DiscardingSink<>());

        long start = System.nanoTime();
        try {
            env.execute("gpu restarts");
        } catch (Exception e) {
            System.out.printf(
                    "restart cycles: the job failed after %d attempt(s) (results by attempt: %s)%n",
                    FREE_WHILE_OPEN.size(), sizes());
            e.printStackTrace(System.out);
            throw e;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long after = freeBytes();
        System.gc(); // memory that only a collection frees (a JavaCPP deallocator) would come
        // back here
        Thread.sleep(500);
        long afterGc = freeBytes();

        StringBuilder samples = new StringBuilder();
        FREE_WHILE_OPEN.forEach(
                (attempt, free) -> {
                    if (attempt % 10 == 0 || attempt <= 2 || attempt == RESTARTS) {
                        samples.append(
                                String.format(" #%d %.1f", attempt, (total - free) / (double) MIB));
                    }
                });
        long first = FREE_WHILE_OPEN.getOrDefault(0, -1L);
        long second = FREE_WHILE_OPEN.getOrDefault(1, -1L);
        long last = FREE_WHILE_OPEN.getOrDefault(RESTARTS, -1L);
        System.out.printf(
                "restart cycles: %d restarts (%d opens/closes of the operator) in %.1f s, %.0f ms per"
                        + " restart; GPU memory used before the job %s, after it %s: growth %s in total, %.3f MiB per"
                        + " cycle; used while open, by attempt (MiB):%s; growth while open from attempt 1 to %d: %s"
                        + " (%.3f MiB per cycle), from attempt 0: %s%n",
                RESTARTS,
                RESTARTS + 1,
                seconds,
                seconds * 1000 / RESTARTS,
                mib(total - before),
                mib(total - after),
                mib(before - after),
                (before - after) / (double) MIB / (RESTARTS + 1),
                samples,
                RESTARTS,
                mib(second - last),
                (second - last) / (double) MIB / (RESTARTS - 1),
                mib(first - last));
        StringBuilder atStart = new StringBuilder();
        FREE_AT_START.forEach(
                (attempt, free) -> {
                    if (attempt % 10 == 0 || attempt <= 2 || attempt == RESTARTS) {
                        atStart.append(
                                String.format(" #%d %.1f", attempt, (total - free) / (double) MIB));
                    }
                });
        System.out.printf(
                "restart cycles: used when an attempt starts (after the previous close), by attempt (MiB):%s;"
                        + " used after the job %s, after a GC %s%n",
                atStart, mib(total - after), mib(total - afterGc));
        System.out.printf(
                "restart cycles: results by attempt %s; backends %s; failures %s%n",
                sizes(),
                BACKENDS,
                FAILURES.size() > 10 ? FAILURES.subList(0, 10) + " ..." : FAILURES);

        assertThat(FREE_WHILE_OPEN.keySet())
                .as("attempts that opened the runner and ran batches")
                .hasSize(RESTARTS + 1)
                .contains(0, RESTARTS);
        assertThat(FAILURES).as("failure outcomes").isEmpty();
        assertThat(BACKENDS).containsExactly(BACKEND);
        assertThat(RESULTS.get(RESTARTS)).as("results of the last attempt").hasSize(REQUESTS);
        assertThat(before - after)
                .as(
                        "GPU memory growth over the job (free before %s, after %s)",
                        mib(before), mib(after))
                .isLessThan(BOUND);
        assertThat(second - last)
                .as("growth of the memory used while open, attempt 1 to %d", RESTARTS)
                .isLessThan(BOUND);
    }

    private static long freeBytes() throws Exception {
        return ON_GPU ? GpuTestSupport.freeBytes(DEVICE) : 0;
    }

    private static Map<Integer, Integer> sizes() {
        Map<Integer, Integer> sizes = new TreeMap<>();
        RESULTS.forEach((attempt, ids) -> sizes.put(attempt, ids.size()));
        return sizes;
    }

    private static final class Request extends RichMapFunction<Long, RequestRecord> {
        private transient RandomRequests random;
        private transient AvroCodec<InferenceRequest> codec;

        @Override
        public RequestRecord map(Long i) {
            if (random == null) {
                ModelSignature mlp =
                        new ModelSignature(
                                TestModels.MLP,
                                "",
                                List.of(new TensorSpec("x", DataType.FLOAT32, new long[] {16})),
                                List.of(),
                                32);
                random = new RandomRequests(mlp, 100, 7);
                codec = new AvroCodec<>(InferenceRequest.class);
            }
            return RequestRecord.of(codec.encode(random.next("r" + i)));
        }
    }

    /**
     * Records outcomes per attempt; reads GPU memory and throws at outcome FAIL_AFTER of every
     * attempt but the last.
     */
    private static final class FailEveryAttemptButTheLast
            extends RichMapFunction<InferenceOutcome, Boolean> {
        private transient int seen;

        @Override
        public void open(OpenContext openContext) throws Exception {
            FREE_AT_START.put(getRuntimeContext().getTaskInfo().getAttemptNumber(), freeBytes());
        }

        @Override
        public Boolean map(InferenceOutcome outcome) throws Exception {
            int attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
            seen++;
            if (outcome.getOutcome() instanceof InferenceResult result) {
                RESULTS.computeIfAbsent(attempt, a -> ConcurrentHashMap.newKeySet())
                        .add(result.getId());
                BACKENDS.add(result.getBackend());
            } else {
                FAILURES.add("attempt " + attempt + ": " + outcome.getOutcome());
            }
            if (seen == FAIL_AFTER) {
                FREE_WHILE_OPEN.put(attempt, freeBytes()); // the runner is open here
                if (attempt < RESTARTS) {
                    throw new IllegalStateException(
                            "Injected failure of attempt " + attempt + " (a test restart)");
                }
            }
            return Boolean.TRUE;
        }
    }
}
