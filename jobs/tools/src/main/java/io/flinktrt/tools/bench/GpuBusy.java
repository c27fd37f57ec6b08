package io.flinktrt.tools.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * How busy the GPU was while a run went: nvidia-smi's {@code utilization.gpu} (the share of its
 * sample period in which a kernel ran) read every 100 ms, averaged over the samples taken between
 * two instants, so a job's start-up is left out. Nothing where nvidia-smi is missing (a CPU run).
 */
final class GpuBusy implements AutoCloseable {

    /** {nanoTime read, percent}. */
    private final List<long[]> samples = new ArrayList<>();

    private final Process nvidiaSmi;
    private final Thread reader;

    GpuBusy(int device) {
        Process started;
        try {
            started =
                    new ProcessBuilder(
                                    "nvidia-smi",
                                    "--query-gpu=utilization.gpu",
                                    "--format=csv,noheader,nounits",
                                    "-i",
                                    String.valueOf(device),
                                    "-lms",
                                    "100")
                            .redirectErrorStream(true)
                            .start();
        } catch (IOException noNvidiaSmi) {
            started = null;
        }
        nvidiaSmi = started;
        reader = nvidiaSmi == null ? null : new Thread(this::read, "bench-gpu-busy");
        if (reader != null) {
            reader.setDaemon(true);
            reader.start();
        }
    }

    private void read() {
        try (BufferedReader lines =
                new BufferedReader(
                        new InputStreamReader(
                                nvidiaSmi.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.strip().matches("\\d+")) {
                    synchronized (samples) {
                        samples.add(new long[] {System.nanoTime(), Long.parseLong(line.strip())});
                    }
                }
            }
        } catch (IOException closed) {
            // nvidia-smi was stopped: the samples so far are all there is
        }
    }

    /** The mean busy percent of the samples read between the two nanoTimes; empty if none. */
    private OptionalDouble meanPercent(long fromNanos, long toNanos) {
        synchronized (samples) {
            return samples.stream()
                    .filter(s -> s[0] >= fromNanos && s[0] <= toNanos)
                    .mapToLong(s -> s[1])
                    .average();
        }
    }

    /** "GPU busy 87% (nvidia-smi)", or why there is no figure. */
    String describe(long fromNanos, long toNanos) {
        if (nvidiaSmi == null) {
            return "GPU busy: n/a (no nvidia-smi)";
        }
        OptionalDouble mean = meanPercent(fromNanos, toNanos);
        return mean.isPresent()
                ? String.format("GPU busy %.0f%% (nvidia-smi utilization.gpu)", mean.getAsDouble())
                : "GPU busy: no nvidia-smi sample in the run";
    }

    @Override
    public void close() throws InterruptedException {
        if (nvidiaSmi != null) {
            nvidiaSmi.destroy();
            reader.join(2_000);
        }
    }
}
