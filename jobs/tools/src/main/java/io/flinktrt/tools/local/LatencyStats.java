package io.flinktrt.tools.local;

import java.util.Arrays;

/** Percentiles of a set of latencies, in microseconds. */
public final class LatencyStats {

    private long[] values = new long[1024];
    private int count;

    public void add(long micros) {
        if (count == values.length) {
            values = Arrays.copyOf(values, count * 2);
        }
        values[count++] = micros;
    }

    public int count() {
        return count;
    }

    /** The p-th percentile (0..100), nearest rank; 0 when empty. */
    public long percentile(double p) {
        if (count == 0) {
            return 0;
        }
        long[] sorted = Arrays.copyOf(values, count);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * count);
        return sorted[Math.max(0, Math.min(count - 1, rank - 1))];
    }

    public String summary() {
        return String.format(
                "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
                percentile(50) / 1000.0,
                percentile(90) / 1000.0,
                percentile(99) / 1000.0,
                percentile(100) / 1000.0);
    }
}
