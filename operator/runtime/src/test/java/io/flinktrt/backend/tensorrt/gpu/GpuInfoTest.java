package io.flinktrt.backend.tensorrt.gpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GpuInfoTest {

    @Test
    void summaryNamesTheGpuCountAndTheProbedGpuByItsPciAddress() {
        GpuInfo gpu = TestGpus.gpu(2, "NVIDIA H200", "9.0", 143155L << 20, "10.6.0.26");

        assertThat(gpu.summary())
                .isEqualTo(
                        "TensorRT 10.6.0.26, 2 GPU(s); GPU 0: NVIDIA H200 (PCI 00000000:00:06.0,"
                                + " compute 9.0, 143155 MiB, driver CUDA 13.0, runtime CUDA 12.6)");
    }
}
