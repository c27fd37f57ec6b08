package io.flinktrt.tools.local;

import io.flinktrt.backend.tensorrt.gpu.GpuProbe;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Device memory in use (cudaMemGetInfo: every process's), sampled every 100 ms from the run's
 * start: what a model swap costs on the GPU before, during and after. Empty without an NVIDIA
 * driver.
 */
final class GpuMemoryTimeline implements AutoCloseable {

    private static final double MIB = 1 << 20;

    /** {nanoTime, bytes used} */
    private final List<long[]> samples = new ArrayList<>();

    private final int device;
    private final ScheduledExecutorService sampler;

    GpuMemoryTimeline(int device) {
        this.device = device;
        this.sampler =
                Executors.newSingleThreadScheduledExecutor(
                        runnable -> {
                            Thread thread = new Thread(runnable, "local-gpu-memory");
                            thread.setDaemon(true);
                            return thread;
                        });
        if (used().isPresent()) {
            sampler.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
        }
    }

    private void sample() {
        used().ifPresent(
                        bytes -> {
                            synchronized (samples) {
                                samples.add(new long[] {System.nanoTime(), bytes});
                            }
                        });
    }

    private OptionalLong used() {
        return GpuProbe.usedMemoryIfAny(device);
    }

    /**
     * "GPU memory: before X MiB, peak during Y MiB, after Z MiB" around [from, to); "" without
     * samples.
     */
    String around(long fromNanos, long toNanos) {
        synchronized (samples) {
            if (samples.isEmpty()) {
                return "";
            }
            long before = -1;
            long peak = -1;
            long after = samples.get(samples.size() - 1)[1];
            for (long[] sample : samples) {
                if (sample[0] < fromNanos) {
                    before = sample[1];
                } else if (sample[0] < toNanos) {
                    peak = Math.max(peak, sample[1]);
                }
            }
            return String.format(
                    "GPU memory in use: before the swap %,.0f MiB, peak during it %,.0f MiB, at the end %,.0f MiB",
                    before / MIB, peak / MIB, after / MIB);
        }
    }

    @Override
    public void close() {
        sample();
        sampler.shutdownNow();
    }
}
