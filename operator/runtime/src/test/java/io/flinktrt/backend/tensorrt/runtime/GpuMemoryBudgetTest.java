package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GpuMemoryBudgetTest {

    private static final long MIB = 1 << 20;

    @Test
    void aLayoutThatFitsPasses() {
        assertThatCode(
                        () ->
                                GpuMemoryBudget.check(
                                        "resnet50", 0, 2, 400 * MIB, 77 * MIB, 0, 2000 * MIB))
                .doesNotThrowAnyException();
    }

    @Test
    void aLayoutThatDoesNotFitIsRefusedWithTheNumbers() {
        assertThatThrownBy(
                        () ->
                                GpuMemoryBudget.check(
                                        "resnet50", 1, 4, 400 * MIB, 77 * MIB, 0, 1000 * MIB))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("does not fit on GPU 1")
                .hasMessageContaining("4 lane(s) need at least 1908 MiB")
                .hasMessageContaining("activations 400 MiB + input buffers 77 MiB")
                .hasMessageContaining("1000 MiB are free")
                .hasMessageContaining("tensorrt.contexts");
    }

    @Test
    void aLaneDecodingJpegsCountsItsDecoder() {
        TensorSpec frames = new TensorSpec("frames", DataType.UINT8, new long[] {224, 224, 3});
        TensorSpec planes = new TensorSpec("input", DataType.FLOAT32, new long[] {3, 224, 224});
        long decoded = 128L * 224 * 224 * 3;
        assertThat(DeviceJpegDecoder.leastBytes(frames, 128)).isEqualTo(decoded);
        assertThat(DeviceJpegDecoder.leastBytes(planes, 128)).isEqualTo(decoded * 6);
        assertThat(
                        DeviceJpegDecoder.leastBytes(
                                new TensorSpec("ids", DataType.INT64, new long[] {128}), 128))
                .isZero();
        // 2 lanes of 400 + 77 MiB fit in 1000 MiB; with the decoder's 18 MiB each they do not
        assertThatCode(
                        () ->
                                GpuMemoryBudget.check(
                                        "resnet50", 0, 2, 400 * MIB, 77 * MIB, 0, 970 * MIB))
                .doesNotThrowAnyException();
        assertThatThrownBy(
                        () ->
                                GpuMemoryBudget.check(
                                        "resnet50", 0, 2, 400 * MIB, 77 * MIB, decoded, 970 * MIB))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("+ JPEG decoding 18 MiB");
    }
}
