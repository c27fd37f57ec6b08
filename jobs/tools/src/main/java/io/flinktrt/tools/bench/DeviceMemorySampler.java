package io.flinktrt.tools.bench;

import io.flinktrt.backend.tensorrt.gpu.GpuProbe;

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

    private final int device;
    private final long baseline;
    private final AtomicLong peak = new AtomicLong(-1);
    private final ScheduledExecutorService sampler;

    DeviceMemorySampler(int device) {
        this.device = device;
        OptionalLong before = used();
        this.baseline = before.orElse(-1);
        this.sampler =
                Executors.newSingleThreadScheduledExecutor(
                        new ExecutorThreadFactory("bench-device-memory"));
        if (before.isPresent()) {
            sampler.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
        }
    }

    private void sample() {
        used().ifPresent(used -> peak.accumulateAndGet(used, Math::max));
    }

    /**
     * What nvidia-smi shows in use on the device, by every process; empty without an NVIDIA driver.
     * The GPU's, whichever backend runs: on the CPU backend it stays flat.
     */
    private OptionalLong used() {
        return GpuProbe.usedMemoryIfAny(device);
    }

    /** "; GPU memory +N MiB (M per slot)", or "" without a GPU to read. */
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
