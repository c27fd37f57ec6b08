package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.Availability;
import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.Backends;
import io.flinktrt.backend.tensorrt.gpu.NativeLibraries;
import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * On a machine without an NVIDIA driver (CI, laptops) TensorRT steps aside quickly and says why.
 */
class AvailabilityWithoutGpuTest {

    @Test
    void findsTheEngineBuilderThatBuildsPlansFromOnnx() {
        assertThat(OnnxPlanBuilder.find()).containsInstanceOf(OnnxPlanCache.class);
    }

    @Test
    void saysWhyItCannotRunAndAutoFallsBackToOnnxRuntime() throws BackendException {
        assumeTrue(NativeLibraries.missingDriver() != null, "this machine has an NVIDIA driver");
        long start = System.nanoTime();
        Availability availability = new TensorRtBackend().availability();
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1000);
        assertThat(availability.available()).isFalse();
        assertThat(availability.reason()).contains("No NVIDIA GPU driver", "onnxruntime backend");

        Backends.Selection selection =
                Backends.select(Backends.AUTO, TestModels.path(TestModels.MLP));
        assertThat(selection.backend().name()).isEqualTo("onnxruntime");
        assertThat(selection.reason()).contains("tensorrt unavailable: No NVIDIA GPU driver");
        assertThatThrownBy(
                        () ->
                                Backends.select(
                                        TensorRtBackend.NAME, TestModels.path(TestModels.MLP)))
                .hasMessageContaining("cannot run here: No NVIDIA GPU driver");
    }

    @Test
    void acceptsPlansAndOnnxModels() {
        TensorRtBackend backend = new TensorRtBackend();
        assertThat(backend.priority()).isGreaterThan(10);
        assertThat(backend.accepts(Path.of("m.plan"))).isTrue();
        assertThat(backend.accepts(Path.of("m.engine"))).isTrue();
        assertThat(backend.accepts(Path.of("m.onnx"))).isTrue();
        assertThat(backend.accepts(Path.of("m.pt"))).isFalse();
    }
}
