package io.flinktrt.tools.files;

import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Timings;
import io.flinktrt.tools.local.LatencyStats;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a consumer read: results by backend, failures by code, the operator's own timings (queue,
 * compute, total per request, as each result reports them), and the request ids read more than
 * once.
 */
public final class OutcomeSummary {

    /** Duplicated ids the summary names; the rest are only counted. */
    private static final int DUPLICATES_NAMED = 10;

    private final Map<String, Integer> resultsByBackend = new TreeMap<>();
    private final Map<ErrorCode, Integer> failuresByCode = new EnumMap<>(ErrorCode.class);
    private final LatencyStats queue = new LatencyStats();
    private final LatencyStats compute = new LatencyStats();
    private final LatencyStats total = new LatencyStats();
    private final Set<String> ids = new HashSet<>();
    private final List<String> duplicated = new ArrayList<>();
    private int duplicates;
    private long firstNanos;
    private long lastNanos;
    private int outcomes;

    public void add(OutcomeReader.Outcome outcome) {
        if (outcomes++ == 0) {
            firstNanos = outcome.readNanos();
        }
        lastNanos = outcome.readNanos();
        if (outcome.id() != null && !ids.add(outcome.id())) { // an undecodable record has no id
            if (duplicates++ < DUPLICATES_NAMED) {
                duplicated.add(outcome.id());
            }
        }
        if (outcome.result() != null) {
            InferenceResult result = outcome.result();
            resultsByBackend.merge(result.getBackend(), 1, Integer::sum);
            Timings timings = result.getTimings();
            queue.add(timings.getQueueMicros());
            compute.add(timings.getComputeMicros());
            total.add(timings.getTotalMicros());
        } else {
            failuresByCode.merge(outcome.failure().getCode(), 1, Integer::sum);
        }
    }

    public int outcomes() {
        return outcomes;
    }

    public int failures() {
        return failuresByCode.values().stream().mapToInt(Integer::intValue).sum();
    }

    public void print(PrintWriter out) {
        double seconds = (lastNanos - firstNanos) / 1e9;
        out.printf(
                "Read %d results and %d failures%s%n",
                total.count(),
                failures(),
                seconds >= 1
                        ? String.format(" over %.1f s (%.0f/s)", seconds, (outcomes - 1) / seconds)
                        : "");
        out.println(
                "  results by backend: "
                        + (resultsByBackend.isEmpty() ? "none" : resultsByBackend));
        out.println(
                "  failures by code:   " + (failuresByCode.isEmpty() ? "none" : failuresByCode));
        out.println(
                "  read more than once: "
                        + (duplicates == 0
                                ? "none"
                                : duplicates
                                        + " outcome(s) of ids read before: "
                                        + String.join(", ", duplicated)
                                        + (duplicates > duplicated.size() ? ", ..." : "")));
        if (total.count() > 0) {
            out.println("  in the operator (from each result's timings):");
            out.println("    total   " + total.summary());
            out.println("    queue   " + queue.summary());
            out.println("    compute " + compute.summary() + " (per batch, copies included)");
        }
        out.flush();
    }
}
