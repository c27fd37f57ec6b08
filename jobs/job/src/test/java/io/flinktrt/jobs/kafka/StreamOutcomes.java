package io.flinktrt.jobs.kafka;

import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The outcomes of a running job, read (read_committed) while it runs: results and failures by id,
 * and the ids that came back more than once.
 */
public final class StreamOutcomes {

    private final OutcomeReader reader;
    private final Map<String, InferenceResult> results = new HashMap<>();
    private final Map<String, InferenceFailure> failures = new HashMap<>();
    private final List<String> duplicates = new ArrayList<>();
    private int undecodable;

    public StreamOutcomes(OutcomeReader reader) {
        this.reader = reader;
    }

    /**
     * Reads until {@code done} holds; fails saying {@code what} was awaited after {@code timeout}.
     */
    public void await(String what, Duration timeout, Callable<Boolean> done) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        what
                                + ": not within "
                                + timeout
                                + " ("
                                + results.size()
                                + " results, "
                                + failures.size()
                                + " failures read)");
            }
            poll(Duration.ofMillis(100));
        }
    }

    /** Reads for {@code period} more: where an outcome committed twice would show up. */
    public void readFor(Duration period) {
        long end = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < end) {
            poll(Duration.ofMillis(100));
        }
    }

    private void poll(Duration wait) {
        reader.poll(
                wait,
                outcome -> {
                    String id =
                            outcome.id() != null ? outcome.id() : "undecodable-" + undecodable++;
                    if (results.containsKey(id) || failures.containsKey(id)) {
                        duplicates.add(id);
                    } else if (outcome.result() != null) {
                        results.put(id, outcome.result());
                    } else {
                        failures.put(id, outcome.failure());
                    }
                });
    }

    /** Distinct ids answered, by a result or a failure. */
    public int answered() {
        return results.size() + failures.size();
    }

    public Map<String, InferenceResult> results() {
        return results;
    }

    public Map<String, InferenceFailure> failures() {
        return failures;
    }

    /** Each id once for every outcome of it after its first. */
    public List<String> duplicates() {
        return duplicates;
    }
}
