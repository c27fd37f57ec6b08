package io.flinktrt.tools.bench;

import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.tensorrt.TensorRtBenchProbe;

import org.apache.flink.util.concurrent.ExecutorThreadFactory;

import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The peak device memory in use while a stage runs, above what was in use before it: what the
 * stage's runners (engine, contexts, buffers) take on the GPU. Samples every 100 ms.
 */
final class DeviceMemorySampler implements AutoCloseable {

    private static final double MIB = 1 << 20;

    private final InferenceBackend backend;
    private final int device;
    private final long baseline;
    private final AtomicLong peak = new AtomicLong(-1);
    private final ScheduledExecutorService sampler;

    DeviceMemorySampler(InferenceBackend backend, int device) {
        this.backend = backend;
        this.device = device;
        OptionalLong before = TensorRtBenchProbe.deviceMemoryUsed(backend, device);
        this.baseline = before.orElse(-1);
        this.sampler =
                Executors.newSingleThreadScheduledExecutor(
                        new ExecutorThreadFactory("bench-device-memory"));
        if (before.isPresent()) {
            sampler.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
        }
    }

    private void sample() {
        TensorRtBenchProbe.deviceMemoryUsed(backend, device)
                .ifPresent(used -> peak.accumulateAndGet(used, Math::max));
    }

    /** ", GPU memory N MiB (M per slot)" or "" where the backend has no device memory to report. */
    String summary(int slots) {
        sample();
        if (baseline < 0 || peak.get() < 0) {
            return "";
        }
        long added = Math.max(0, peak.get() - baseline);
        return String.format(
                "; GPU memory +%,.0f MiB (%,.0f per slot)", added / MIB, added / MIB / slots);
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
