package io.flinktrt.tools.local;

import org.HdrHistogram.Histogram;

/**
 * Latencies in microseconds, in an HdrHistogram: any range, 3 significant digits (a percentile is
 * within 0.1% of the exact one).
 */
public final class LatencyStats {

    private final Histogram histogram = new Histogram(3);

    public void add(long micros) {
        histogram.recordValue(micros);
    }

    public long count() {
        return histogram.getTotalCount();
    }

    /** The p-th percentile (0..100); 0 when empty. */
    public long percentile(double p) {
        return histogram.getValueAtPercentile(p);
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
