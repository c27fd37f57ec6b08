package io.flinktrt.backend.tensorrt.plan;

import org.apache.flink.annotation.Internal;

import java.util.List;
import java.util.TreeSet;

/**
 * The batch sizes a plan has an optimization profile for: the builder makes the profiles, the
 * runtime's options name them for plans built on a TaskManager.
 */
@Internal
public final class BatchBuckets {

    /** Buckets used when a dynamic-batch model comes with no --shapes and no --batch-buckets. */
    public static final List<Integer> DEFAULTS = List.of(1, 8, 32, 64);

    private BatchBuckets() {}

    /** {@code 1,8,32,128}: ascending, distinct, positive. */
    public static List<Integer> parse(String text) {
        return parse(text, "Batch buckets", "batch sizes like 1,8,32,128");
    }

    /** Sequence lengths, {@code 16,32,64,128}: ascending, distinct, positive. */
    public static List<Integer> parseLengths(String text) {
        return parse(text, "Sequence lengths", "token counts like 16,32,64,128");
    }

    private static List<Integer> parse(String text, String what, String example) {
        TreeSet<Integer> buckets = new TreeSet<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                int bucket;
                try {
                    bucket = Integer.parseInt(part.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(
                            what + " are " + example + "; got '" + text + "'");
                }
                if (bucket < 1) {
                    throw new IllegalArgumentException(what + " must be positive; got " + bucket);
                }
                buckets.add(bucket);
            }
        }
        if (buckets.isEmpty()) {
            throw new IllegalArgumentException(what + " need at least one size");
        }
        return List.copyOf(buckets);
    }
}
