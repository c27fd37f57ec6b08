package io.flinktrt.testing;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics of one job's inference operator, as a reporter saw them (identifier to metric, e.g.
 * from Flink's {@code InMemoryReporter}): each looked up by its name in the {@code inference}
 * group, which must hold exactly one of that name.
 */
public final class ReportedMetrics {

    private final Map<String, Metric> metrics;

    public ReportedMetrics(Map<String, Metric> metrics) {
        this.metrics = metrics;
    }

    public long counter(String name) {
        return ((Counter) metric(name)).getCount();
    }

    public Histogram histogram(String name) {
        return (Histogram) metric(name);
    }

    public Object gauge(String name) {
        return ((Gauge<?>) metric(name)).getValue();
    }

    private Metric metric(String name) {
        String suffix = ".inference." + name;
        List<Metric> found =
                metrics.entrySet().stream()
                        .filter(e -> e.getKey().endsWith(suffix))
                        .map(Map.Entry::getValue)
                        .toList();
        assertThat(found).as("metrics ending in %s among %s", suffix, metrics.keySet()).hasSize(1);
        return found.get(0);
    }
}
