package io.flinktrt.backend.tensorrt.gpu;

import io.flinktrt.backend.BackendException;

import org.apache.flink.annotation.Internal;

import org.bytedeco.cuda.global.cudart;
import org.slf4j.LoggerFactory;

/** Checked CUDA runtime calls: a failing status becomes an exception that names the call. */
@Internal
public final class Cuda {

    private Cuda() {}

    public static void check(int status, String call) throws BackendException {
        if (status != cudart.cudaSuccess) {
            throw new BackendException(call + " failed: " + errorName(status));
        }
    }

    /** For teardown paths, where the first error is already being reported. */
    public static void checkQuietly(int status, String call) {
        if (status != cudart.cudaSuccess) {
            LoggerFactory.getLogger(Cuda.class).warn("{} failed: {}", call, errorName(status));
        }
    }

    public static String errorName(int status) {
        return cudart.cudaGetErrorString(status).getString() + " (CUDA error " + status + ")";
    }

    /** The current device is per host thread; every thread that touches CUDA calls this first. */
    public static void setDevice(int device) throws BackendException {
        check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    }
}
