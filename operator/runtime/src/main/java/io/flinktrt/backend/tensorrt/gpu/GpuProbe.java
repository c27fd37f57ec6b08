package io.flinktrt.backend.tensorrt.gpu;

import io.flinktrt.backend.BackendException;

import org.apache.flink.annotation.Internal;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.tensorrt.global.nvinfer;

import java.util.OptionalLong;

/**
 * Finds the GPU and the versions of the driver, CUDA runtime and TensorRT, with errors that say
 * what to fix.
 */
@Internal
public final class GpuProbe {

    private GpuProbe() {}

    /**
     * Probes {@code device}. With {@code withFreeMemory} it also reads free memory, which creates
     * the device's CUDA context (hundreds of MB, a fraction of a second); without it nothing is
     * allocated.
     */
    public static GpuInfo probe(int device, boolean withFreeMemory) throws BackendException {
        NativeLibraries.loadRuntime();
        int[] count = {0};
        int status = cudart.cudaGetDeviceCount(count);
        if (status == cudart.cudaErrorInsufficientDriver) {
            throw new BackendException(
                    "The NVIDIA driver is too old for the CUDA "
                            + runtimeVersion()
                            + " runtime that TensorRT "
                            + tensorRtVersion()
                            + " uses (the driver supports CUDA "
                            + driverVersion()
                            + "). Install an NVIDIA driver for CUDA 12: 525.60 or newer, 560 or newer for"
                            + " CUDA 12.6 without minor-version compatibility.");
        }
        if (status == cudart.cudaErrorNoDevice || (status == cudart.cudaSuccess && count[0] == 0)) {
            throw new BackendException(
                    "No CUDA GPU is visible (CUDA_VISIBLE_DEVICES="
                            + System.getenv("CUDA_VISIBLE_DEVICES")
                            + "); the TensorRT backend needs one.");
        }
        Cuda.check(status, "cudaGetDeviceCount");
        if (device < 0 || device >= count[0]) {
            throw new BackendException(
                    "GPU index "
                            + device
                            + " was asked for, but "
                            + count[0]
                            + " GPU(s) are visible (indices 0.."
                            + (count[0] - 1)
                            + ").");
        }
        cudaDeviceProp props = new cudaDeviceProp();
        try {
            Cuda.check(cudart.cudaGetDeviceProperties(props, device), "cudaGetDeviceProperties");
            long free = -1;
            if (withFreeMemory) {
                free = freeMemory(device);
            }
            int major = props.major();
            int minor = props.minor();
            int cc = major * 10 + minor;
            return new GpuInfo(
                    device,
                    count[0],
                    props.name().getString(),
                    String.format(
                            "%08X:%02X:%02X.0",
                            props.pciDomainID(), props.pciBusID(), props.pciDeviceID()),
                    major + "." + minor,
                    props.totalGlobalMem(),
                    free,
                    props.multiProcessorCount(),
                    props.asyncEngineCount(),
                    driverVersion(),
                    runtimeVersion(),
                    tensorRtVersion(),
                    cc == 53 || cc == 60 || cc == 62 || cc >= 70,
                    cc >= 61);
        } finally {
            props.deallocate();
        }
    }

    /** Free device memory in bytes; sets {@code device} as the calling thread's current device. */
    public static long freeMemory(int device) throws BackendException {
        return memoryInfo(device)[0];
    }

    /**
     * Total minus free device memory in bytes; sets {@code device} as the calling thread's current
     * device.
     */
    public static long usedMemory(int device) throws BackendException {
        long[] info = memoryInfo(device);
        return info[1] - info[0];
    }

    /**
     * {@link #usedMemory}, by every process on the device; empty where no NVIDIA driver or CUDA
     * runtime answers (a bench or a report on the CPU).
     */
    public static OptionalLong usedMemoryIfAny(int device) {
        if (NativeLibraries.missingDriver() != null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(usedMemory(device));
        } catch (BackendException | RuntimeException | LinkageError e) {
            return OptionalLong.empty();
        }
    }

    /** {free, total} bytes, as cudaMemGetInfo reports them. */
    private static long[] memoryInfo(int device) throws BackendException {
        Cuda.setDevice(device);
        try (SizeTPointer free = new SizeTPointer(1);
                SizeTPointer total = new SizeTPointer(1)) {
            Cuda.check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            return new long[] {free.get(), total.get()};
        }
    }

    /** The loaded libnvinfer's version, e.g. {@code 10.6.0.26}. */
    public static String tensorRtVersion() {
        return nvinfer.getInferLibMajorVersion()
                + "."
                + nvinfer.getInferLibMinorVersion()
                + "."
                + nvinfer.getInferLibPatchVersion()
                + "."
                + nvinfer.getInferLibBuildVersion();
    }

    static String runtimeVersion() {
        int[] v = {0};
        cudart.cudaRuntimeGetVersion(v);
        return cudaVersion(v[0]);
    }

    static String driverVersion() {
        int[] v = {0};
        cudart.cudaDriverGetVersion(v);
        return cudaVersion(v[0]);
    }

    /** 12060 is CUDA 12.6. */
    static String cudaVersion(int encoded) {
        return encoded / 1000 + "." + encoded % 1000 / 10;
    }
}
