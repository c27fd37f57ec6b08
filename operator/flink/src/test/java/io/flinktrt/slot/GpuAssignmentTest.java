package io.flinktrt.slot;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class GpuAssignmentTest {

    /** What Flink's GPU driver reports for one GPU: a single "index" property. */
    private record Gpu(String index) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return "index".equals(key) ? Optional.of(index) : Optional.empty();
        }

        @Override
        public Collection<String> getKeys() {
            return Set.of("index");
        }
    }

    @Test
    void withoutAGpuResourceEverySlotUsesTheConfiguredDevice() {
        try (var first = GpuAssignment.claim(List.of(), 3);
                var second = GpuAssignment.claim(List.of(), 3)) {
            assertThat(first.deviceIndex()).isEqualTo(3);
            assertThat(second.deviceIndex()).isEqualTo(3);
            assertThat(first.source()).contains("configuration");
        }
    }

    @Test
    void slotsOfOneTaskManagerSpreadOverItsGpusAndReuseAFreedOne() {
        List<ExternalResourceInfo> gpus = List.of(new Gpu("7"), new Gpu("6"));
        try (var a = GpuAssignment.claim(gpus, 0);
                var b = GpuAssignment.claim(gpus, 0)) {
            assertThat(Set.of(a.deviceIndex(), b.deviceIndex())).containsExactlyInAnyOrder(6, 7);
            var c = GpuAssignment.claim(gpus, 0); // both busy: shares the lowest index
            assertThat(c.deviceIndex()).isEqualTo(6);
            c.close();
            a.close();
            try (var d = GpuAssignment.claim(gpus, 0)) {
                assertThat(d.deviceIndex()).isEqualTo(a.deviceIndex());
            }
        }
    }

    @Test
    void closingAClaimTwiceReleasesItOnce() {
        List<ExternalResourceInfo> gpus = List.of(new Gpu("0"), new Gpu("1"));
        var a = GpuAssignment.claim(gpus, 0);
        try (var b = GpuAssignment.claim(gpus, 0)) {
            a.close();
            a.close();
            try (var c = GpuAssignment.claim(gpus, 0);
                    var d = GpuAssignment.claim(gpus, 0)) {
                assertThat(List.of(b.deviceIndex(), c.deviceIndex(), d.deviceIndex()))
                        .containsOnly(0, 1);
                assertThat(c.deviceIndex()).isNotEqualTo(b.deviceIndex());
            }
        }
    }
}
