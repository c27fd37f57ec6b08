package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;
import io.flinktrt.backend.tensorrt.runtime.TensorRtRunner;

import org.apache.flink.annotation.Internal;

import java.time.Duration;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What the bench command measures beyond the SPI, where the backend is TensorRT: the compute-only
 * bound and the device memory in use. Kept out of {@link InferenceBackend} and {@link ModelRunner},
 * which jobs use.
 */
@Internal
public final class TensorRtBenchProbe {

    private TensorRtBenchProbe() {}

    /**
     * Records per second of batches of {@code rows} run back to back on data already on the GPU
     * (trtexec --noDataTransfers); empty for a runner of another backend.
     */
    public static OptionalDouble computeOnlyRecordsPerSecond(
            ModelRunner runner, int rows, Duration duration) throws BackendException {
        return runner instanceof TensorRtRunner tensorRt
                ? OptionalDouble.of(tensorRt.computeOnlyRecordsPerSecond(rows, duration))
                : OptionalDouble.empty();
    }

    /**
     * Bytes of device memory in use on {@code device} by every process (what nvidia-smi shows);
     * empty where {@code backend} is not TensorRT or TensorRT cannot run here. Never throws.
     */
    public static OptionalLong deviceMemoryUsed(InferenceBackend backend, int device) {
        if (!(backend instanceof TensorRtBackend) || !backend.availability().available()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(GpuProbe.usedMemory(device));
        } catch (BackendException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
