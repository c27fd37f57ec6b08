package io.flinktrt.backend.tensorrt.gpu;

/** GPUs as {@link GpuProbe} describes them, for tests that need no real one. */
public final class TestGpus {

    private TestGpus() {}

    /** GPU 0 of {@code deviceCount}, 132 SMs, 3 copy engines, driver CUDA 13.0, runtime 12.6. */
    public static GpuInfo gpu(
            int deviceCount,
            String name,
            String computeCapability,
            long totalMemoryBytes,
            String tensorRtVersion) {
        return new GpuInfo(
                0,
                deviceCount,
                name,
                "00000000:00:06.0",
                computeCapability,
                totalMemoryBytes,
                -1,
                132,
                3,
                "13.0",
                "12.6",
                tensorRtVersion,
                true,
                true);
    }
}
