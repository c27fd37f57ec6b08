package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.backend.tensorrt.plan.BatchBuckets;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;

import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides the optimization profiles of a build from the network's input shapes, {@code --shapes}
 * and {@code --batch-buckets}. Pure logic, so it is tested without a GPU.
 *
 * <ul>
 *   <li>Batch buckets {@code 1,8,32,128} give one profile per bucket: batch 1, 2..8, 9..32 and
 *       33..128, each tuned (opt) at its top, which is the size a batch is padded to at run time.
 *       Other dimensions come from the network when fixed, else from {@code --shapes}.
 *   <li>Without buckets, {@code --shapes} gives one profile; inputs it does not name must be fixed.
 *   <li>With neither, a dynamic batch gets the {@link BatchBuckets#DEFAULTS}.
 *   <li>Sequence lengths {@code 16,32,64,128} (the dimension after the batch of every input that
 *       leaves it dynamic: text) give, for each batch bucket, one profile per length: 1..16,
 *       17..32, 33..64 and 65..128 tokens, each tuned at its top, the length a batch is padded to.
 * </ul>
 */
@Internal
public final class OptimizationProfiles {

    /**
     * The profiles to build, each a range per input (in the network's input order).
     *
     * @param networkInputs input name to its shape in the network, -1 where dynamic
     */
    public static List<Map<String, ShapeRange>> plan(
            Map<String, long[]> networkInputs,
            Map<String, ShapeRange> shapes,
            List<Integer> buckets) {
        return plan(networkInputs, shapes, buckets, List.of());
    }

    /**
     * As {@link #plan(Map, Map, List)}, each batch bucket's profile split into one per sequence
     * length (ascending); inputs whose dimension after the batch is fixed keep it.
     */
    public static List<Map<String, ShapeRange>> plan(
            Map<String, long[]> networkInputs,
            Map<String, ShapeRange> shapes,
            List<Integer> buckets,
            List<Integer> sequenceLengths) {
        List<Map<String, ShapeRange>> profiles =
                batchProfiles(networkInputs, shapes, buckets, !sequenceLengths.isEmpty());
        if (sequenceLengths.isEmpty()) {
            return profiles;
        }
        boolean anySequence =
                networkInputs.values().stream().anyMatch(d -> d.length > 1 && d[1] < 0);
        if (!anySequence) {
            throw new IllegalArgumentException(
                    "Sequence lengths need an input whose dimension after the batch is dynamic"
                            + " (text: [batch, tokens]); the model's inputs: "
                            + describe(networkInputs));
        }
        List<Map<String, ShapeRange>> split = new ArrayList<>();
        for (Map<String, ShapeRange> profile : profiles) {
            int low = 1;
            for (int length : sequenceLengths) {
                Map<String, ShapeRange> atLength = new LinkedHashMap<>();
                for (Map.Entry<String, ShapeRange> input : profile.entrySet()) {
                    long[] dims = networkInputs.get(input.getKey());
                    ShapeRange range = input.getValue();
                    if (dims.length > 1 && dims[1] < 0) {
                        long[] min = range.min().clone();
                        long[] opt = range.opt().clone();
                        long[] max = range.max().clone();
                        min[1] = low;
                        opt[1] = length;
                        max[1] = length;
                        range = new ShapeRange(min, opt, max);
                    }
                    atLength.put(input.getKey(), range);
                }
                split.add(atLength);
                low = length + 1;
            }
        }
        return split;
    }

    private static String describe(Map<String, long[]> inputs) {
        StringBuilder s = new StringBuilder();
        inputs.forEach(
                (name, dims) ->
                        s.append(s.isEmpty() ? "" : ", ")
                                .append(name)
                                .append(Arrays.toString(dims)));
        return s.toString();
    }

    /**
     * The profiles over the batch; with {@code sequence}, a dynamic dimension after the batch is
     * set to 1 here, and each profile is split by length next.
     */
    private static List<Map<String, ShapeRange>> batchProfiles(
            Map<String, long[]> networkInputs,
            Map<String, ShapeRange> shapes,
            List<Integer> buckets,
            boolean sequence) {
        if (sequence) { // the sequence lengths give dimension 1; stand in a placeholder of 1
            Map<String, long[]> placeholder = new LinkedHashMap<>();
            networkInputs.forEach(
                    (name, dims) -> {
                        long[] d = dims.clone();
                        if (d.length > 1 && d[1] < 0 && !shapes.containsKey(name)) {
                            d[1] = 1;
                        }
                        placeholder.put(name, d);
                    });
            return batchProfiles(placeholder, shapes, buckets, false);
        }
        for (String name : shapes.keySet()) {
            if (!networkInputs.containsKey(name)) {
                throw new IllegalArgumentException(
                        "A shape range names "
                                + name
                                + ", which is not an input of the model; inputs: "
                                + networkInputs.keySet());
            }
        }
        boolean dynamicBatch =
                networkInputs.values().stream().anyMatch(d -> d.length > 0 && d[0] < 0);
        if (buckets.isEmpty() && shapes.isEmpty() && dynamicBatch) {
            buckets = BatchBuckets.DEFAULTS;
        }
        if (buckets.isEmpty()) {
            Map<String, ShapeRange> profile = new LinkedHashMap<>();
            networkInputs.forEach(
                    (name, dims) ->
                            profile.put(name, withoutBuckets(name, dims, shapes.get(name))));
            return List.of(profile);
        }
        List<Map<String, ShapeRange>> profiles = new ArrayList<>();
        int low = 1;
        for (int high : buckets) {
            Map<String, ShapeRange> profile = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> input : networkInputs.entrySet()) {
                profile.put(
                        input.getKey(),
                        forBucket(
                                input.getKey(),
                                input.getValue(),
                                shapes.get(input.getKey()),
                                low,
                                high));
            }
            profiles.add(profile);
            low = high + 1;
        }
        return profiles;
    }

    private static ShapeRange withoutBuckets(String name, long[] dims, ShapeRange given) {
        if (given == null) {
            for (long d : dims) {
                if (d < 0) {
                    throw new IllegalArgumentException(
                            "Input "
                                    + name
                                    + " has a dynamic shape "
                                    + Arrays.toString(dims)
                                    + "; give its shape range "
                                    + name
                                    + ":min/opt/max (or batch buckets when only"
                                    + " the batch varies).");
                }
            }
            return ShapeRange.fixed(dims);
        }
        checkAgainstNetwork(name, dims, given);
        return given;
    }

    private static ShapeRange forBucket(
            String name, long[] dims, ShapeRange given, int low, int high) {
        if (dims.length == 0) {
            throw new IllegalArgumentException(
                    "Input " + name + " is a scalar; batch buckets need a batch dimension first.");
        }
        if (dims[0] >= 0) {
            throw new IllegalArgumentException(
                    "Input "
                            + name
                            + " has a fixed batch of "
                            + dims[0]
                            + "; batch buckets need a model exported with a dynamic batch dimension.");
        }
        if (given != null) {
            checkAgainstNetwork(name, dims, given);
        }
        long[] min = dims.clone();
        long[] opt = dims.clone();
        long[] max = dims.clone();
        min[0] = low;
        opt[0] = high;
        max[0] = high;
        for (int d = 1; d < dims.length; d++) {
            if (dims[d] < 0) {
                if (given == null) {
                    throw new IllegalArgumentException(
                            "Dimension "
                                    + d
                                    + " of input "
                                    + name
                                    + " is dynamic "
                                    + Arrays.toString(dims)
                                    + "; give its shape range "
                                    + name
                                    + ":min/opt/max.");
                }
                min[d] = given.min()[d];
                opt[d] = given.opt()[d];
                max[d] = given.max()[d];
            }
        }
        return new ShapeRange(min, opt, max);
    }

    private static void checkAgainstNetwork(String name, long[] dims, ShapeRange given) {
        if (given.min().length != dims.length) {
            throw new IllegalArgumentException(
                    "The shape range of input "
                            + name
                            + " has rank "
                            + given.min().length
                            + ", but the model's input is "
                            + Arrays.toString(dims));
        }
        for (int d = 0; d < dims.length; d++) {
            if (dims[d] >= 0 && (given.min()[d] != dims[d] || given.max()[d] != dims[d])) {
                throw new IllegalArgumentException(
                        "The shape range of input "
                                + name
                                + " is "
                                + given
                                + ", but its dimension "
                                + d
                                + " is fixed at "
                                + dims[d]
                                + " in the model "
                                + Arrays.toString(dims));
            }
        }
    }
}
