package io.flinktrt.tools.local;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LatencyStatsTest {

    @Test
    void percentilesAreTheNearestRankWithinATenthOfAPercent() {
        LatencyStats stats = new LatencyStats();
        for (long micros = 100_000; micros >= 1; micros--) {
            stats.add(micros);
        }

        assertThat(stats.count()).isEqualTo(100_000);
        assertThat(stats.percentile(50)).isCloseTo(50_000, within(50L));
        assertThat(stats.percentile(99.9)).isCloseTo(99_900, within(100L));
        assertThat(stats.percentile(100)).isCloseTo(100_000, within(100L));
        assertThat(stats.summary())
                .isEqualTo("p50 50.0 ms, p90 90.0 ms, p99 99.0 ms, max 100.0 ms");
    }

    @Test
    void emptyIsZero() {
        LatencyStats stats = new LatencyStats();

        assertThat(stats.count()).isZero();
        assertThat(stats.summary()).isEqualTo("p50 0.0 ms, p90 0.0 ms, p99 0.0 ms, max 0.0 ms");
    }
}
