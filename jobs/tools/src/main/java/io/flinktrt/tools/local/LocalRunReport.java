package io.flinktrt.tools.local;

import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;

import java.io.PrintStream;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What came back from a local run: counts, throughput, latency, a few predictions. Filled by the
 * reader thread; the counts may be read from another thread for progress lines.
 */
public final class LocalRunReport {

    private final int requests;
    private final int badRequests;
    private final Map<String, ErrorCode> expectedFailures = new HashMap<>();
    private final Set<String> seen = new HashSet<>();
    private final Map<ErrorCode, Integer> failuresByCode =
            Collections.synchronizedMap(new EnumMap<>(ErrorCode.class));
    private final List<String> surprises = new ArrayList<>();
    private final List<InferenceResult> samples = new ArrayList<>();
    private final LatencyStats latency = new LatencyStats();
    private volatile int results;
    private int duplicates;
    private long queueMicros;
    private long computeMicros;
    private long batchSizes;
    private long startNanos;
    private long lastResultNanos;

    /** Per result: {sent, read back (nanoTime), model version or 0}. */
    private final List<long[]> timeline = new ArrayList<>();

    private final Map<Long, Integer> versions = new java.util.TreeMap<>();
    private long shippedVersion;
    private long shippedNanos;

    LocalRunReport(int requests, int badRequests) {
        this.requests = requests;
        this.badRequests = badRequests;
    }

    void expectFailure(String id, ErrorCode code) {
        expectedFailures.put(id, code);
    }

    void started(long nanos) {
        startNanos = nanos;
    }

    void add(OutcomeReader.Outcome outcome, Map<String, Long> sentAt) {
        String id = outcome.id();
        Long sent = id == null ? null : sentAt.get(id);
        if (sent == null && outcome.failure() != null && id == null) {
            id = "(undecodable)";
        } else if (sent == null) {
            return; // from an earlier run on the same topics
        }
        if (!seen.add(id) && !id.equals("(undecodable)")) {
            duplicates++;
            return;
        }
        if (outcome.result() != null) {
            results++;
            InferenceResult result = outcome.result();
            latency.add((outcome.readNanos() - sent) / 1000);
            long version = result.getModelVersion() == null ? 0 : result.getModelVersion();
            versions.merge(version, 1, Integer::sum);
            timeline.add(new long[] {sent, outcome.readNanos(), version});
            lastResultNanos = Math.max(lastResultNanos, outcome.readNanos());
            queueMicros += result.getTimings().getQueueMicros();
            computeMicros += result.getTimings().getComputeMicros();
            batchSizes += result.getBatchSize();
            if (samples.size() < 10) {
                samples.add(result);
            }
        } else {
            InferenceFailure failure = outcome.failure();
            failuresByCode.merge(failure.getCode(), 1, Integer::sum);
            ErrorCode expected =
                    failure.getId() == null
                            ? ErrorCode.UNDECODABLE
                            : expectedFailures.get(failure.getId());
            if (expected != failure.getCode()) {
                surprises.add(id + ": " + failure.getCode() + " " + failure.getMessage());
            }
        }
    }

    /** A {@link SwapRehearsal} shipped {@code version} at {@code nanos}. */
    void shipped(long version, long nanos) {
        shippedVersion = version;
        shippedNanos = nanos;
    }

    int received() {
        synchronized (failuresByCode) {
            return results + failuresByCode.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    boolean allReceived() {
        return received() >= requests + badRequests;
    }

    /** Every request came back once, as a result, and every bad one with its expected code. */
    public boolean complete() {
        return results == requests
                && received() == requests + badRequests
                && duplicates == 0
                && surprises.isEmpty();
    }

    /** Results per second, from the first request sent to the last result read. */
    public double throughput() {
        return results / ((lastResultNanos - startNanos) / 1e9);
    }

    /** When the first request was sent (nanoTime). */
    public long startNanos() {
        return startNanos;
    }

    /** When the last result was read (nanoTime). */
    public long lastResultNanos() {
        return lastResultNanos;
    }

    /** Send-to-read-back latency of every result. */
    public LatencyStats latency() {
        return latency;
    }

    public void print(PrintStream out, String backend, int show) {
        out.println();
        out.printf(
                "Results: %d/%d results, %d/%d dead-letter records %s, %d duplicates%n",
                results, requests, received() - results, badRequests, failuresByCode, duplicates);
        if (results > 0) {
            out.printf(
                    "Throughput: %.0f requests/s (%d requests in %.2f s, first send to last result; backend %s)%n",
                    throughput(), results, (lastResultNanos - startNanos) / 1e9, backend);
            out.println("Latency, send to result read back: " + latency.summary());
            out.printf(
                    "In the operator: mean batch %.1f requests, mean queue wait %.2f ms, mean batch compute %.2f ms%n",
                    (double) batchSizes / results,
                    queueMicros / 1000.0 / results,
                    computeMicros / 1000.0 / results);
        }
        if (versions.keySet().stream().anyMatch(v -> v != 0)) {
            out.println("Results by model version: " + versions);
        }
        out.println("Predictions:");
        samples.stream().limit(show).forEach(result -> out.println("  " + describe(result)));
        surprises.forEach(s -> out.println("UNEXPECTED: " + s));
        out.println(
                complete()
                        ? "OK: every request came back exactly once."
                        : "INCOMPLETE: not every request came back as expected (see above).");
    }

    /**
     * What the stream saw around a shipped version: when its first result came back, and latency in
     * the 10 s around that moment against the steady state before the version was shipped.
     */
    void printSwap(PrintStream out, GpuMemoryTimeline memory) {
        if (shippedNanos == 0) {
            return;
        }
        long firstNew = Long.MAX_VALUE;
        long lastOld = 0;
        for (long[] entry : timeline) {
            if (entry[2] == shippedVersion) {
                firstNew = Math.min(firstNew, entry[1]);
            } else {
                lastOld = Math.max(lastOld, entry[1]);
            }
        }
        out.printf(
                "Swap: version %d shipped %.1f s after the first request%n",
                shippedVersion, (shippedNanos - startNanos) / 1e9);
        if (firstNew == Long.MAX_VALUE) {
            out.println("  no result of version " + shippedVersion + " came back");
            return;
        }
        out.printf(
                "  its first result read back %.2f s after it was shipped; the last result of an older version %.2f s after%n",
                (firstNew - shippedNanos) / 1e9, (lastOld - shippedNanos) / 1e9);
        LatencyStats steady = new LatencyStats();
        LatencyStats around = new LatencyStats();
        long window = 5_000_000_000L;
        for (long[] entry : timeline) {
            if (entry[1] < shippedNanos) {
                steady.add((entry[1] - entry[0]) / 1000);
            } else if (Math.abs(entry[1] - firstNew) < window) {
                around.add((entry[1] - entry[0]) / 1000);
            }
        }
        out.printf(
                "  latency before it was shipped (%d results): %s%n",
                steady.count(), steady.summary());
        out.printf(
                "  latency in the 10 s around its first result (%d results): %s%n",
                around.count(), around.summary());
        if (steady.count() > 0 && around.count() > 0) {
            out.printf(
                    "  p99 around the swap / p99 before: %.2f%n",
                    (double) around.percentile(99) / steady.percentile(99));
        }
        String gpu = memory.around(shippedNanos, Math.max(lastOld, firstNew) + window);
        if (!gpu.isEmpty()) {
            out.println("  " + gpu);
        }
    }

    private static String describe(InferenceResult result) {
        StringBuilder text = new StringBuilder(result.getId()).append(":");
        for (Tensor output : result.getOutputs()) {
            text.append(' ').append(output.getName()).append(output.getShape());
            if (output.getDtype() == DataType.FLOAT32) {
                FloatBuffer values =
                        output.getData().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                int best = 0;
                StringBuilder head = new StringBuilder();
                for (int i = 0; i < values.limit(); i++) {
                    if (values.get(i) > values.get(best)) {
                        best = i;
                    }
                    if (i < 4) {
                        head.append(i == 0 ? "" : ", ")
                                .append(String.format("%.4f", values.get(i)));
                    }
                }
                text.append(" [")
                        .append(head)
                        .append(values.limit() > 4 ? ", ..." : "")
                        .append("]");
                if (values.limit() > 1) {
                    text.append(String.format(" top-1 %d (%.4f)", best, values.get(best)));
                }
            }
        }
        return text.append(
                        String.format(
                                " batch %d, compute %.2f ms",
                                result.getBatchSize(),
                                result.getTimings().getComputeMicros() / 1000.0))
                .toString();
    }
}
