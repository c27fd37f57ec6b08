package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GpuMemoryBudgetTest {

    private static final long MIB = 1 << 20;

    @Test
    void aLayoutThatFitsPasses() {
        assertThatCode(
                        () ->
                                GpuMemoryBudget.check(
                                        "resnet50", 0, 2, 400 * MIB, 77 * MIB, 2000 * MIB))
                .doesNotThrowAnyException();
    }

    @Test
    void aLayoutThatDoesNotFitIsRefusedWithTheNumbers() {
        assertThatThrownBy(
                        () ->
                                GpuMemoryBudget.check(
                                        "resnet50", 1, 4, 400 * MIB, 77 * MIB, 1000 * MIB))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("does not fit on GPU 1")
                .hasMessageContaining("4 lane(s) need at least 1908 MiB")
                .hasMessageContaining("activations 400 MiB + input buffers 77 MiB")
                .hasMessageContaining("1000 MiB are free")
                .hasMessageContaining("tensorrt.contexts");
    }
}
