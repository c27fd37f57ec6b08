package io.flinktrt.backend.tensorrt;

import java.util.Comparator;
import java.util.List;

/**
 * Which optimization profile runs a batch, and how many rows it computes. A batch goes to the
 * profile with the smallest max batch that holds it, and is padded up to that profile's opt batch:
 * TensorRT tuned its kernels for opt, and a fixed shape per bucket spares {@code setInputShape}
 * calls. With profiles built from batch buckets (opt = max), that is padding up to the bucket.
 */
final class BatchProfiles {

    /** Batch range of one profile (the first dimension of its inputs). */
    record Profile(int index, int minBatch, int optBatch, int maxBatch) {}

    /** The profile for a batch and the rows it computes (the real rows plus padding). */
    record Choice(int profile, int executedRows) {}

    private final List<Profile> bySize;
    private final int limit;

    /** @param limit the runner's max batch (its buffers' size); no batch computes more rows */
    BatchProfiles(List<Profile> profiles, int limit) {
        this.bySize = profiles.stream().sorted(Comparator.comparingInt(Profile::maxBatch)).toList();
        this.limit = limit;
    }

    Choice choose(int rows) {
        if (rows < 1 || rows > limit) {
            throw new IllegalArgumentException("A batch holds 1.." + limit + " rows, not " + rows);
        }
        for (Profile p : bySize) {
            if (p.maxBatch() >= rows && p.minBatch() <= limit) {
                int executed = Math.min(Math.max(rows, Math.max(p.optBatch(), p.minBatch())), Math.min(limit, p.maxBatch()));
                if (executed >= p.minBatch()) {
                    return new Choice(p.index(), executed);
                }
            }
        }
        throw new IllegalArgumentException("No optimization profile runs a batch of " + rows + " within a max batch of "
                + limit + ": " + bySize);
    }

    /** One batch size per usable profile, to warm each up once. */
    List<Integer> warmUpBatches() {
        return bySize.stream()
                .filter(p -> p.minBatch() <= limit)
                .map(p -> Math.min(Math.max(p.optBatch(), p.minBatch()), Math.min(limit, p.maxBatch())))
                .distinct()
                .toList();
    }

    /** The largest batch any profile takes. */
    static int largest(List<Profile> profiles) {
        return profiles.stream().mapToInt(Profile::maxBatch).max().orElse(0);
    }
}
