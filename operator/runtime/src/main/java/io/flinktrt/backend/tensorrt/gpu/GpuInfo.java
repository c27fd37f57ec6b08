package io.flinktrt.backend.tensorrt.gpu;

import org.apache.flink.annotation.Internal;

/**
 * The GPU a plan runs on and the software around it, as TensorRT compatibility needs it.
 *
 * @param pciBusId the GPU's PCI address as nvidia-smi prints it, e.g. {@code 00000000:00:06.0}:
 *     CUDA's device index is nvidia-smi's (and Flink's discovery script's) only with {@code
 *     CUDA_DEVICE_ORDER=PCI_BUS_ID}
 * @param computeCapability e.g. {@code 9.0}
 * @param freeMemoryBytes free device memory when probed, -1 when not asked (it needs a CUDA
 *     context)
 * @param driverCudaVersion the newest CUDA version the installed driver supports, e.g. {@code 13.0}
 * @param cudaRuntimeVersion the CUDA runtime TensorRT runs on, e.g. {@code 12.6}
 * @param tensorRtVersion the loaded libnvinfer's version, e.g. {@code 10.6.0.26}
 * @param fastFp16 native FP16 arithmetic (compute capability 5.3, 6.0, 6.2, 7.0 and later)
 * @param fastInt8 native INT8 dot products (compute capability 6.1 and later)
 */
@Internal
public record GpuInfo(
        int device,
        int deviceCount,
        String name,
        String pciBusId,
        String computeCapability,
        long totalMemoryBytes,
        long freeMemoryBytes,
        int multiProcessors,
        int copyEngines,
        String driverCudaVersion,
        String cudaRuntimeVersion,
        String tensorRtVersion,
        boolean fastFp16,
        boolean fastInt8) {

    /**
     * One line for logs and {@code availability()}: the machine's GPU count first, as a slot may
     * run on another GPU than the one probed.
     */
    public String summary() {
        return "TensorRT "
                + tensorRtVersion
                + ", "
                + deviceCount
                + " GPU(s); GPU "
                + device
                + ": "
                + name
                + " (PCI "
                + pciBusId
                + ", compute "
                + computeCapability
                + ", "
                + totalMemoryBytes / (1 << 20)
                + " MiB, driver CUDA "
                + driverCudaVersion
                + ", runtime CUDA "
                + cudaRuntimeVersion
                + ")";
    }
}
