package io.flinktrt.backend.tensorrt.runtime;

import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which optimization profile runs a batch, and how many rows it computes. A batch goes to the
 * profile with the smallest max batch that holds it, and is padded up to that profile's opt batch:
 * TensorRT tuned its kernels for opt, and a fixed shape per bucket spares {@code setInputShape}
 * calls. With profiles built from batch buckets (opt = max), that is padding up to the bucket.
 *
 * <p>Once the runner has timed each bucket ({@link #useCosts}), a batch of fixed-shape buckets may
 * instead run as several chunks, run back to back on one stream, when that computes faster: 40 rows
 * as 32 + 8 rather than padded to 128.
 */
@Internal
public final class BatchProfiles {

    /**
     * Batch range of one profile (the first dimension of its inputs), and its sequence lengths (the
     * second; 0 for a plan without a sequence axis).
     */
    record Profile(
            int index, int minBatch, int optBatch, int maxBatch, int minLength, int maxLength) {

        Profile(int index, int minBatch, int optBatch, int maxBatch) {
            this(index, minBatch, optBatch, maxBatch, 0, 0);
        }

        boolean takes(int length) {
            return length == 0 || (minLength <= length && length <= maxLength);
        }
    }

    /**
     * The profile for a batch, the rows it computes (the real rows plus padding) and its sequence
     * length (0 without a sequence axis).
     */
    record Choice(int profile, int executedRows, int length) {

        Choice(int profile, int executedRows) {
            this(profile, executedRows, 0);
        }
    }

    /** A part of a batch: {@code rows} real rows computed as {@code choice}. */
    record Chunk(int rows, Choice choice) {}

    private final List<Profile> bySize;
    private final int limit;

    /**
     * Cheapest split per row count, indexed by rows; null until costs are known or where buckets
     * are not fixed.
     */
    private volatile Choice[] firstChunk;

    /**
     * @param limit the runner's max batch (its buffers' size); no batch computes more rows
     */
    BatchProfiles(List<Profile> profiles, int limit) {
        this.bySize =
                profiles.stream()
                        .sorted(
                                Comparator.comparingInt(Profile::maxBatch)
                                        .thenComparingInt(Profile::maxLength))
                        .toList();
        this.limit = limit;
    }

    Choice choose(int rows) {
        return choose(rows, 0);
    }

    /**
     * The profile for {@code rows} at sequence length {@code length} (0 without a sequence axis):
     * the one with the smallest max batch that holds the rows, of those that take the length, the
     * one with the shortest lengths.
     */
    Choice choose(int rows, int length) {
        if (rows < 1 || rows > limit) {
            throw new IllegalArgumentException("A batch holds 1.." + limit + " rows, not " + rows);
        }
        for (Profile p : bySize) {
            if (p.maxBatch() >= rows && p.minBatch() <= limit && p.takes(length)) {
                int executed =
                        Math.min(
                                Math.max(rows, Math.max(p.optBatch(), p.minBatch())),
                                Math.min(limit, p.maxBatch()));
                if (executed >= p.minBatch()) {
                    return new Choice(p.index(), executed, length);
                }
            }
        }
        throw new IllegalArgumentException(
                "No optimization profile runs a batch of "
                        + rows
                        + (length > 0 ? " at sequence length " + length : "")
                        + " within a max batch of "
                        + limit
                        + ": "
                        + bySize);
    }

    /**
     * How to run {@code rows}: one chunk (padded to its bucket), or, once costs are known, the
     * split with the least total compute time.
     */
    List<Chunk> plan(int rows, int length) {
        Choice[] first = firstChunk;
        if (first == null) {
            return List.of(new Chunk(rows, choose(rows, length)));
        }
        if (rows < 1 || rows > limit) {
            throw new IllegalArgumentException("A batch holds 1.." + limit + " rows, not " + rows);
        }
        List<Chunk> chunks = new ArrayList<>(2);
        for (int left = rows; left > 0; ) {
            Choice choice = first[left];
            if (length > 0) { // the split is the same at every length; the profile is the length's
                choice = choose(choice.executedRows(), length);
            }
            int chunk = Math.min(left, choice.executedRows());
            chunks.add(new Chunk(chunk, choice));
            left -= chunk;
        }
        return chunks;
    }

    /**
     * Measured compute time per bucket, keyed by its executed rows (those of {@link
     * #warmUpBatches}). Only buckets of a fixed shape (opt = max) are split, and only where there
     * are several; otherwise every batch stays one chunk.
     */
    void useCosts(Map<Integer, Double> costByRows) {
        boolean fixedBuckets =
                bySize.stream()
                        .filter(p -> p.minBatch() <= limit)
                        .allMatch(p -> p.optBatch() == Math.min(limit, p.maxBatch()));
        if (!fixedBuckets
                || costByRows.size() < 2
                || !costByRows.keySet().containsAll(warmUpBatches())) {
            return;
        }
        // A larger bucket never computes faster than a smaller one; what a timing says otherwise is
        // noise, and would pad small batches to the larger bucket for nothing.
        int[] buckets = costByRows.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        double[] cost = new double[buckets.length];
        for (int b = 0; b < buckets.length; b++) {
            cost[b] = Math.max(costByRows.get(buckets[b]), b > 0 ? cost[b - 1] : 0);
        }
        double[] best = new double[limit + 1];
        Choice[] first = new Choice[limit + 1];
        for (int rows = 1; rows <= limit; rows++) {
            best[rows] = Double.MAX_VALUE;
            for (int b = 0; b < buckets.length; b++) { // smallest first: a tie goes to less padding
                double total = cost[b] + best[Math.max(0, rows - buckets[b])];
                if (total < best[rows]) {
                    best[rows] = total;
                    first[rows] = choose(buckets[b]);
                }
            }
        }
        firstChunk = first;
    }

    /** One batch size per usable profile, to warm each up once. */
    List<Integer> warmUpBatches() {
        return bySize.stream()
                .filter(p -> p.minBatch() <= limit)
                .map(
                        p ->
                                Math.min(
                                        Math.max(p.optBatch(), p.minBatch()),
                                        Math.min(limit, p.maxBatch())))
                .distinct()
                .toList();
    }

    /** The largest batch any profile takes. */
    static int largest(List<Profile> profiles) {
        return profiles.stream().mapToInt(Profile::maxBatch).max().orElse(0);
    }
}
