package io.flinktrt.backend.tensorrt.gpu;

import io.flinktrt.backend.BackendException;

import org.apache.flink.annotation.Internal;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nppc;
import org.bytedeco.cuda.global.nppial;
import org.bytedeco.cuda.global.nppidei;
import org.bytedeco.cuda.global.nppig;
import org.bytedeco.cuda.global.nvjpeg;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the CUDA runtime and TensorRT JNI libraries once per JVM, turning each way it can fail into
 * a sentence that says what to install or set. A machine without an NVIDIA driver is recognised
 * before anything is loaded, so asking costs nothing there.
 */
@Internal
public final class NativeLibraries {

    static final String INSTALL_HINT =
            "Install TensorRT 10.6 and the CUDA 12 runtime (libnvinfer.so.10, libnvonnxparser.so.10, libcudart.so.12;"
                    + " the 1.5.11 presets also load libcublas.so.12, libcublasLt.so.12, libcudnn*.so.9 and libnvrtc.so.12)"
                    + " on LD_LIBRARY_PATH and run with -Dorg.bytedeco.javacpp.pathsFirst=true, or build with the Maven"
                    + " profile -Pgpu-redist so the jars carry them. -Dorg.bytedeco.javacpp.logger.debug=true lists every"
                    + " library tried.";

    private static final Logger LOG = LoggerFactory.getLogger(NativeLibraries.class);

    private static String runtimeError;
    private static boolean runtimeLoaded;
    private static String parserError;
    private static boolean parserLoaded;
    private static Boolean imageCodecsLoaded;

    private NativeLibraries() {}

    /** The CUDA runtime and TensorRT's runtime library; enough to deserialize and run plans. */
    public static synchronized void loadRuntime() throws BackendException {
        if (runtimeLoaded) {
            return;
        }
        if (runtimeError == null) {
            runtimeError = missingDriver();
        }
        if (runtimeError == null) {
            try {
                Loader.load(cudart.class);
                Loader.load(nvinfer.class);
                runtimeLoaded = true;
                return;
            } catch (Throwable e) { // UnsatisfiedLinkError, or NoClassDefFoundError on a class that
                // failed before
                runtimeError =
                        "The CUDA/TensorRT native libraries did not load ("
                                + e
                                + "). "
                                + INSTALL_HINT;
            }
        }
        throw new BackendException(runtimeError);
    }

    /**
     * nvJPEG and NPP, for decoding images on the GPU: whether they loaded. Where they do not (the
     * GPU bundle's media group is missing), images are decoded on the CPU, said once in the log.
     */
    public static synchronized boolean loadImageCodecs() {
        if (imageCodecsLoaded == null) {
            try {
                for (Class<?> library :
                        List.of(
                                nvjpeg.class,
                                nppc.class,
                                nppig.class,
                                nppidei.class,
                                nppial.class)) {
                    Loader.load(library);
                }
                imageCodecsLoaded = true;
            } catch (Throwable e) {
                LOG.warn(
                        "nvJPEG/NPP did not load ({}): images are decoded on the CPU. Put"
                                + " libnvjpeg.so.12 and libnppc/ig/idei/ial.so.12 (CUDA 12) on"
                                + " LD_LIBRARY_PATH to decode them on the GPU.",
                        e.toString());
                imageCodecsLoaded = false;
            }
        }
        return imageCodecsLoaded;
    }

    /** TensorRT's ONNX parser: only building engines needs it. */
    public static synchronized void loadOnnxParser() throws BackendException {
        loadRuntime();
        if (parserLoaded) {
            return;
        }
        if (parserError == null) {
            try {
                Loader.load(nvonnxparser.class);
                parserLoaded = true;
                return;
            } catch (Throwable e) {
                parserError =
                        "TensorRT's ONNX parser (libnvonnxparser.so.10) did not load ("
                                + e
                                + "). "
                                + INSTALL_HINT;
            }
        }
        throw new BackendException(parserError);
    }

    /**
     * Why no NVIDIA driver can be here, or null when one may be. Checks the kernel module's files
     * and the driver library (libcuda.so.1) on the usual paths, without loading anything.
     */
    public static String missingDriver() {
        String os = System.getProperty("os.name", "") + "/" + System.getProperty("os.arch", "");
        if (!os.startsWith("Linux") || !(os.endsWith("amd64") || os.endsWith("x86_64"))) {
            return "The TensorRT backend runs on Linux x86_64 with an NVIDIA GPU; this is "
                    + os
                    + ".";
        }
        if (Files.exists(Path.of("/proc/driver/nvidia/version"))
                || Files.exists(Path.of("/dev/nvidiactl"))) {
            return null;
        }
        List<String> dirs = driverLibraryDirs();
        for (String dir : dirs) {
            if (Files.exists(Path.of(dir, "libcuda.so.1"))) {
                return null;
            }
        }
        return "No NVIDIA GPU driver on this machine (no /proc/driver/nvidia, no /dev/nvidiactl, no libcuda.so.1 in "
                + String.join(":", dirs)
                + "). The TensorRT backend needs an NVIDIA GPU with its driver;"
                + " use the onnxruntime backend on the CPU.";
    }

    private static List<String> driverLibraryDirs() {
        List<String> dirs = new ArrayList<>();
        for (String path :
                new String[] {
                    System.getenv("LD_LIBRARY_PATH"), System.getProperty("java.library.path")
                }) {
            if (path != null) {
                for (String dir : path.split(File.pathSeparator)) {
                    if (!dir.isBlank() && !dirs.contains(dir)) {
                        dirs.add(dir);
                    }
                }
            }
        }
        for (String dir :
                List.of(
                        "/usr/lib/x86_64-linux-gnu",
                        "/usr/lib64",
                        "/usr/lib",
                        "/usr/local/nvidia/lib64",
                        "/usr/local/cuda/compat",
                        "/usr/lib/wsl/lib")) {
            if (!dirs.contains(dir)) {
                dirs.add(dir);
            }
        }
        return dirs;
    }
}
