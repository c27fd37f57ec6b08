package io.flinktrt.backend.tensorrt.plan;

import org.apache.flink.annotation.Internal;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shapes one input may take in an optimization profile (trtexec's min/opt/max shapes). Written
 * {@code 1x3x224x224/64x3x224x224/128x3x224x224}, or one shape for all three.
 */
@Internal
public record ShapeRange(long[] min, long[] opt, long[] max) {

    public ShapeRange {
        String text = format(min) + "/" + format(opt) + "/" + format(max);
        if (min.length != opt.length || opt.length != max.length) {
            throw new IllegalArgumentException("min, opt and max need the same rank: " + text);
        }
        for (int d = 0; d < min.length; d++) {
            if (min[d] < 1 || min[d] > opt[d] || opt[d] > max[d]) {
                throw new IllegalArgumentException(
                        "Dimension " + d + " needs 1 <= min <= opt <= max: " + text);
            }
        }
    }

    public static ShapeRange fixed(long[] shape) {
        return new ShapeRange(shape, shape, shape);
    }

    /** {@code 1x3x224x224/64x3x224x224/128x3x224x224} or {@code 8x16}. */
    public static ShapeRange parse(String text) {
        String[] parts = text.trim().split("/");
        if (parts.length == 1) {
            return fixed(parseDims(parts[0]));
        }
        if (parts.length != 3) {
            throw new IllegalArgumentException(
                    "A shape range is min/opt/max (e.g. 1x16/8x16/32x16), not '" + text + "'");
        }
        return new ShapeRange(parseDims(parts[0]), parseDims(parts[1]), parseDims(parts[2]));
    }

    /**
     * {@code name:range[,name:range...]}, as build-engine's {@code --shapes} takes it. The name is
     * everything before the last colon, so names such as {@code input:0} work.
     */
    public static Map<String, ShapeRange> parseAll(Iterable<String> specs) {
        Map<String, ShapeRange> ranges = new LinkedHashMap<>();
        for (String spec : specs) {
            for (String one : spec.split(",")) {
                if (one.isBlank()) {
                    continue;
                }
                int colon = one.lastIndexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException(
                            "A shape range is name:min/opt/max, e.g."
                                    + " input:1x3x224x224/64x3x224x224/128x3x224x224; got '"
                                    + one
                                    + "'");
                }
                String name = one.substring(0, colon).trim();
                if (ranges.put(name, parse(one.substring(colon + 1))) != null) {
                    throw new IllegalArgumentException("Input " + name + " has two shape ranges");
                }
            }
        }
        return ranges;
    }

    static long[] parseDims(String text) {
        String[] parts = text.trim().split("x");
        long[] dims = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                dims[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "A shape is dimensions joined by 'x' (e.g. 64x3x224x224), not '"
                                + text
                                + "'");
            }
        }
        return dims;
    }

    public static String format(long[] dims) {
        StringBuilder s = new StringBuilder();
        for (long d : dims) {
            s.append(s.isEmpty() ? "" : "x").append(d);
        }
        return s.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShapeRange r
                && Arrays.equals(min, r.min)
                && Arrays.equals(opt, r.opt)
                && Arrays.equals(max, r.max);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(min) * 961 + Arrays.hashCode(opt) * 31 + Arrays.hashCode(max);
    }

    @Override
    public String toString() {
        return format(min) + "/" + format(opt) + "/" + format(max);
    }
}
