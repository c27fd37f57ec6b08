package io.flinktrt.tools.bench;

import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRecordTypeInfo;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.tools.local.LatencyStats;
import io.flinktrt.wire.AvroCodec;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.concurrent.ExecutorThreadFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;

/**
 * Latency of the inference operator alone, under an open-loop load: a rate-limited source in the
 * local Flink emits pre-encoded requests at a fixed rate (the task thread never sleeps in the
 * limiter, so results are emitted while the source waits), the operator, and a sink that takes each
 * result's latency from the time its request was due on the schedule (System.nanoTime, same JVM).
 * No Kafka: this is what the operator adds, the figure the target {@code max-delay + 2 x batch
 * compute} is about.
 *
 * <p>Coordinated omission: a request the source emits late (the operator's queue full, the task
 * thread busy) counts its wait from the time it was due, so a stall shows in the figure instead of
 * holding back the requests that would have measured it. HdrHistogram's own correction ({@code
 * recordValueWithExpectedInterval}) is not used: it assumes each request waits for the previous
 * answer, and with hundreds in flight it would add {@code latency / interval} made-up shorter
 * values for every real one (at 5,000/s and 8 ms, p50 4.2 ms instead of 8.0).
 */
final class OperatorLatency {

    private static final String ID_PREFIX = "oplat-";

    // Flink instantiates the source and the sink itself; in the local cluster they share this JVM.
    private static volatile PacedLoad load;
    private static volatile AtomicLongArray dueAt;
    private static volatile AtomicIntegerArray groupOf;
    private static final Map<Integer, Group> GROUPS = new ConcurrentSkipListMap<>();
    private static volatile ArrayBlockingQueue<Integer> freeSlots;
    private static volatile LatencyStats stats;
    private static final AtomicLong FIRST_DUE = new AtomicLong();

    /** When the request the source emits next was due: set by the limiter, read by the source. */
    private static volatile long nextDue;

    private static final AtomicLong FIRST_RESULT = new AtomicLong();
    private static final AtomicLong LAST_RESULT = new AtomicLong();
    private static final AtomicLong RESULTS = new AtomicLong();
    private static volatile long warmUpNanos;
    private static final ScheduledExecutorService TIMER =
            Executors.newSingleThreadScheduledExecutor(
                    new ExecutorThreadFactory("bench-rate-timer"));

    /**
     * Latencies after the warm-up and the rate the results came at; and by group (a text's length
     * bucket), each with the compute time of the batches its requests ran in.
     */
    record Figure(LatencyStats latency, double resultsPerSecond, Map<Integer, Group> groups) {}

    /** What the paced source sends, and the group each request's latency counts in. */
    interface PacedLoad {

        /** Request {@code index}, sent in {@code slot} under {@code id}. */
        RequestRecord request(int slot, long index, String id);

        /** The group of request {@code index}; 0 where there is one. */
        default int group(long index) {
            return 0;
        }
    }

    /** The latencies of one group, and the mean backend time of the batches they ran in. */
    static final class Group {
        private final LatencyStats latency = new LatencyStats();
        private double computeMicros;
        private double batches;

        synchronized void add(long latencyMicros, InferenceResult result) {
            latency.add(latencyMicros);
            // each row of a batch carries the batch's compute time: a row counts 1/rows of it
            computeMicros +=
                    (double) result.getTimings().getComputeMicros() / result.getBatchSize();
            batches += 1.0 / result.getBatchSize();
        }

        synchronized LatencyStats latency() {
            return latency;
        }

        /** Mean backend time (copies included) of a batch holding this group's requests. */
        synchronized double batchComputeMicros() {
            return batches == 0 ? 0 : computeMicros / batches;
        }
    }

    private OperatorLatency() {}

    /**
     * Runs the operator for about {@code duration} at {@code ratePerSecond}, sending what {@code
     * loadForSlots} (given the number of slots) makes; the first quarter (at most 1 s) is warm-up
     * and not counted.
     */
    static Figure run(
            IntFunction<PacedLoad> loadForSlots,
            InferenceFunctionBuilder inference,
            int ratePerSecond,
            Duration duration)
            throws Exception {
        InferenceFunction<RequestRecord, InferenceOutcome> function = inference.build();
        // Each request in flight has its own slot (and id), so a result names its emit time.
        // In-flight
        // requests are bounded by the operator's capacity, plus the one the source holds while
        // blocked.
        int slots = function.capacity() + 64;
        load = loadForSlots.apply(slots);
        dueAt = new AtomicLongArray(slots);
        groupOf = new AtomicIntegerArray(slots);
        GROUPS.clear();
        freeSlots = new ArrayBlockingQueue<>(slots);
        for (int i = 0; i < slots; i++) {
            freeSlots.add(i);
        }
        stats = new LatencyStats();
        FIRST_DUE.set(0);
        FIRST_RESULT.set(0);
        LAST_RESULT.set(0);
        RESULTS.set(0);
        warmUpNanos = Math.min(1_000_000_000L, duration.toNanos() / 4);
        long records = Math.max(1, (long) ratePerSecond * duration.toSeconds());

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
        env.getConfig().enableObjectReuse(); // as the job does
        DataGeneratorSource<RequestRecord> source =
                new DataGeneratorSource<>(
                        new PacedRequests(slots),
                        records,
                        fixedRate(ratePerSecond),
                        RequestRecordTypeInfo.INSTANCE);
        function.applyTo(env.fromSource(source, WatermarkStrategy.noWatermarks(), "paced-requests"))
                .map(new RecordLatency())
                .sinkTo(new DiscardingSink<>());
        env.execute("flink-tensorrt bench: operator latency");
        if (RESULTS.get() != records) {
            throw new IllegalStateException(
                    "Only " + RESULTS.get() + " of " + records + " requests got a result");
        }
        double seconds = (LAST_RESULT.get() - FIRST_RESULT.get()) / 1e9;
        return new Figure(stats, seconds > 0 ? (records - 1) / seconds : 0, Map.copyOf(GROUPS));
    }

    /**
     * Record i is due at start + i / rate (the source asks for one permit before each record).
     * Flink's own per-second limiter hands every permit over a thread (tens of thousands per second
     * at most); this one completes at once when the record is due and otherwise on a timer thread,
     * so the task thread never waits in it.
     */
    private static RateLimiterStrategy<NumberSequenceSource.NumberSequenceSplit> fixedRate(
            int ratePerSecond) {
        long intervalNanos = 1_000_000_000L / ratePerSecond;
        return parallelism ->
                new RateLimiter<>() {
                    private long next;

                    @Override
                    public CompletionStage<Void> acquire(int permits) {
                        long now = System.nanoTime();
                        if (next == 0) {
                            next = now;
                        }
                        long due = next;
                        next += permits * intervalNanos;
                        nextDue = due;
                        if (due <= now) {
                            return CompletableFuture.completedFuture(null);
                        }
                        CompletableFuture<Void> ready = new CompletableFuture<>();
                        TIMER.schedule(() -> ready.complete(null), due - now, TimeUnit.NANOSECONDS);
                        return ready;
                    }
                };
    }

    /** Requests of a sample set, encoded ahead, one per slot (its id names the slot). */
    static final class SampleLoad implements PacedLoad {
        private final RequestRecord[] payloads;

        SampleLoad(List<InferenceRequest> samples, int slots) {
            AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
            payloads = new RequestRecord[slots];
            for (int i = 0; i < slots; i++) {
                InferenceRequest request = samples.get(i % samples.size());
                request.setId(ID_PREFIX + i);
                payloads[i] = RequestRecord.of(codec.encode(request));
            }
        }

        @Override
        public RequestRecord request(int slot, long index, String id) {
            return payloads[slot];
        }
    }

    /**
     * Hands out the load's requests, one slot per request in flight, and notes when each was due.
     */
    private static final class PacedRequests implements GeneratorFunction<Long, RequestRecord> {
        private final int slots;

        PacedRequests(int slots) {
            this.slots = slots;
        }

        @Override
        public RequestRecord map(Long index) {
            // Never wait here: the task thread also emits the results that free the slots.
            Integer slot = freeSlots.poll();
            if (slot == null) {
                throw new IllegalStateException(
                        "More than "
                                + slots
                                + " requests in flight: the operator's capacity"
                                + " is larger than the bench assumed");
            }
            long due = nextDue;
            FIRST_DUE.compareAndSet(0, due);
            dueAt.set(slot, due);
            groupOf.set(slot, load.group(index));
            return load.request(slot, index, ID_PREFIX + slot);
        }
    }

    private static final class RecordLatency implements MapFunction<InferenceOutcome, Boolean> {
        @Override
        public Boolean map(InferenceOutcome outcome) {
            long now = System.nanoTime();
            if (!(outcome.getOutcome() instanceof InferenceResult result)) {
                throw new IllegalStateException("A bench request failed: " + outcome.getOutcome());
            }
            int slot = Integer.parseInt(result.getId().substring(ID_PREFIX.length()));
            long due = dueAt.get(slot);
            int group = groupOf.get(slot); // read before the slot is free to take another request
            freeSlots.add(slot);
            if (due - FIRST_DUE.get() >= warmUpNanos) {
                stats.add((now - due) / 1000);
                GROUPS.computeIfAbsent(group, g -> new Group()).add((now - due) / 1000, result);
            }
            FIRST_RESULT.compareAndSet(0, now);
            LAST_RESULT.set(now);
            RESULTS.incrementAndGet();
            return Boolean.TRUE;
        }
    }
}
