package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import org.bytedeco.cuda.global.cudart;

/** Checked CUDA runtime calls: a failing status becomes an exception that names the call. */
final class Cuda {

    private Cuda() {}

    static void check(int status, String call) throws BackendException {
        if (status != cudart.cudaSuccess) {
            throw new BackendException(call + " failed: " + errorName(status));
        }
    }

    /** For teardown paths, where the first error is already being reported. */
    static void checkQuietly(int status, String call) {
        if (status != cudart.cudaSuccess) {
            org.slf4j.LoggerFactory.getLogger(Cuda.class).warn("{} failed: {}", call, errorName(status));
        }
    }

    static String errorName(int status) {
        return cudart.cudaGetErrorString(status).getString() + " (CUDA error " + status + ")";
    }

    /** The current device is per host thread; every thread that touches CUDA calls this first. */
    static void setDevice(int device) throws BackendException {
        check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    }
}
