package io.flinktrt.tools.bench;

import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.TensorRtBenchProbe;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.tools.local.LatencyStats;
import io.flinktrt.tools.local.LocalRunReport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/** Runs the bench stages for one model and writes the table, CSV and plots. */
public final class Benchmark {

    private static final double[] PERCENTILES = {50, 75, 90, 95, 99, 99.9};

    private final InferenceBackend backend;
    private final Path model;
    private final int device;
    private final ModelSignature signature;
    private final Map<String, String> options;
    private final int buffersInFlight;
    private final Duration duration;
    private final long maxDelayMs;
    private final long jobMaxBytes;
    private final long maxRecords;
    private final Path out;
    private final BenchTable table = new BenchTable();

    public Benchmark(
            InferenceBackend backend,
            Path model,
            int device,
            ModelSignature signature,
            Map<String, String> options,
            int buffersInFlight,
            int seconds,
            long maxDelayMs,
            long jobMaxBytes,
            long maxRecords,
            Path out) {
        this.backend = backend;
        this.model = model;
        this.device = device;
        this.signature = signature;
        this.options = options;
        this.buffersInFlight = buffersInFlight;
        this.duration = Duration.ofSeconds(seconds);
        this.maxDelayMs = maxDelayMs;
        this.jobMaxBytes = jobMaxBytes;
        this.maxRecords = maxRecords;
        this.out = out;
    }

    /** Returns false when a stage could not produce its figure. */
    public boolean run(List<Integer> sizes, List<Integer> slots, List<String> stages)
            throws Exception {
        Files.createDirectories(out);
        System.out.printf(
                "Model %s, request %,d bytes, batch sizes %s, %d s per figure%n",
                signature.modelName(), requestBytes(), sizes, duration.toSeconds());
        Map<Integer, Double> computeOnly = new LinkedHashMap<>();
        Map<Integer, Double> raw = new LinkedHashMap<>();
        Map<Integer, Double> operator = new LinkedHashMap<>();
        for (int batch : sizes) {
            // A runner per batch size, its max batch = that size: no padding to a larger bucket.
            try (ModelRunner runner =
                    backend.open(new ModelConfig(model, device, batch, buffersInFlight, options))) {
                OptionalDouble bound =
                        TensorRtBenchProbe.computeOnlyRecordsPerSecond(runner, batch, duration);
                if (bound.isPresent()) {
                    computeOnly.put(batch, bound.getAsDouble());
                    row(
                            "raw: compute only",
                            batch,
                            1,
                            computeOnly.get(batch),
                            0,
                            "no host copies (trtexec --noDataTransfers)");
                }
                raw.put(
                        batch,
                        RunnerThroughput.recordsPerSecond(
                                runner, batch, Duration.ofSeconds(2), duration));
                row(
                        "raw: with copies",
                        batch,
                        1,
                        raw.get(batch),
                        0,
                        String.format("%d batches in flight, copies in and out", buffersInFlight));
            }
        }
        int best = raw.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        double bestRaw = raw.get(best);
        if (stages.contains("operator")) {
            for (int batch : sizes) {
                operator.put(
                        batch,
                        OperatorThroughput.recordsPerSecond(
                                signature, inference(batch), 1, records(raw.get(batch))));
                row(
                        "operator (memory source)",
                        batch,
                        1,
                        operator.get(batch),
                        raw.get(batch),
                        "ratio = operator / raw with copies");
            }
        }
        if (stages.contains("slots")) {
            for (int slotCount : slots) {
                try (DeviceMemorySampler memory = new DeviceMemorySampler(backend, device)) {
                    double rps =
                            OperatorThroughput.recordsPerSecond(
                                    signature,
                                    inference(best),
                                    slotCount,
                                    records(bestRaw * slotCount));
                    row(
                            "operator, slots",
                            best,
                            slotCount,
                            rps,
                            bestRaw,
                            "one runner per slot" + memory.summary(slotCount));
                }
            }
        }
        boolean complete = true;
        Map<String, Plot> plots = new LinkedHashMap<>();
        double batchComputeMs = best / bestRaw * 1000;
        String target =
                String.format(
                        "target p99 <= max-delay + 2 x batch compute = %.1f ms",
                        maxDelayMs + 2 * batchComputeMs);
        Plot latencies =
                new Plot(
                        "Latency at fixed load, "
                                + signature.modelName()
                                + " ("
                                + backend.name()
                                + ")",
                        "percentile",
                        "ms",
                        true);
        if (stages.contains("latency")) {
            // The operator alone (memory source, no Kafka) at fixed loads of its own throughput.
            double operatorRate = operator.getOrDefault(best, bestRaw);
            for (double load : new double[] {0.5, 0.9}) {
                int rate = (int) Math.max(1, load * operatorRate);
                OperatorLatency.Figure figure =
                        OperatorLatency.run(signature, inference(best), rate, duration);
                row(
                        String.format("operator latency @%.0f%%", load * 100),
                        best,
                        1,
                        figure.resultsPerSecond(),
                        0,
                        String.format("%s; %s", figure.latency().summary(), target));
                latencies.line(
                        String.format("operator, %.0f%% load (%,d/s)", load * 100, rate),
                        PERCENTILES,
                        milliseconds(figure.latency()));
            }
        }
        if (stages.contains("job") || stages.contains("latency") || stages.contains("kafka")) {
            try (KafkaJobThroughput jobs = new KafkaJobThroughput()) {
                // The operator is the job's upper bound: size the run by it, so it lasts about the
                // set duration.
                double upperBound = operator.getOrDefault(best, bestRaw);
                int requests = (int) Math.min(records(upperBound), jobMaxBytes / requestBytes());
                double kafkaAlone = 0;
                if (stages.contains("kafka")) {
                    KafkaJobThroughput.KafkaAlone ceiling = jobs.kafkaAlone(signature, 1, requests);
                    kafkaAlone = ceiling.recordsPerSecond();
                    row(
                            "Kafka alone (no Flink)",
                            best,
                            1,
                            kafkaAlone,
                            0,
                            String.format(
                                    "the job's ceiling: %,d requests"
                                            + " of %,d bytes produced and consumed at once, 1 partition, the job's client settings; %.0f MB/s",
                                    ceiling.requests(),
                                    ceiling.requestBytes(),
                                    ceiling.bytesPerSecond() / 1e6));
                }
                LocalRunReport job = null;
                if (stages.contains("job") || stages.contains("latency")) {
                    job = jobs.run(signature, inference(best), 1, requests, 0);
                    complete &= job.complete();
                    row(
                            "job (Kafka->Flink->Kafka)",
                            best,
                            1,
                            job.throughput(),
                            bestRaw,
                            String.format(
                                    "%,d requests sent at once (latency here is queueing; see the fixed-load rows)%s",
                                    requests,
                                    kafkaAlone > 0
                                            ? String.format(
                                                    "; %.3f of Kafka alone",
                                                    job.throughput() / kafkaAlone)
                                            : ""));
                }
                if (job != null && stages.contains("latency")) {
                    // End to end through Kafka, as a user tuned for latency gets it: requests sent
                    // at
                    // once (producer linger 0), results written at once (sink linger 0,
                    // at-least-once:
                    // with EXACTLY_ONCE they would only be visible at each checkpoint's commit).
                    for (double load : new double[] {0.5, 0.9}) {
                        int rate = (int) Math.max(1, load * job.throughput());
                        LocalRunReport report =
                                jobs.run(
                                        signature,
                                        inference(best),
                                        1,
                                        (int)
                                                Math.min(
                                                        (long) rate * duration.toSeconds(),
                                                        jobMaxBytes / requestBytes()),
                                        rate);
                        complete &= report.complete();
                        LatencyStats stats = report.latency();
                        row(
                                String.format("latency @%.0f%% of job", load * 100),
                                best,
                                1,
                                report.throughput(),
                                0,
                                String.format("Kafka end to end: %s; %s", stats.summary(), target));
                        latencies.line(
                                String.format("Kafka job, %.0f%% load (%,d/s)", load * 100, rate),
                                PERCENTILES,
                                milliseconds(stats));
                    }
                }
            }
        }
        if (stages.contains("latency")) {
            plots.put(signature.modelName() + "-latency", latencies);
        }
        table.print(System.out);
        table.writeCsv(out.resolve(signature.modelName() + "-bench.csv"));
        Plot throughput =
                new Plot(
                        "Throughput vs batch size, "
                                + signature.modelName()
                                + " ("
                                + backend.name()
                                + ")",
                        "batch size",
                        "records/s",
                        true);
        if (!computeOnly.isEmpty()) {
            throughput.line("raw: compute only", xs(computeOnly), ys(computeOnly));
        }
        throughput.line("raw: with copies", xs(raw), ys(raw));
        if (!operator.isEmpty()) {
            throughput.line("operator in Flink", xs(operator), ys(operator));
        }
        plots.put(signature.modelName() + "-throughput", throughput);
        for (Map.Entry<String, Plot> plot : plots.entrySet()) {
            plot.getValue().save(out.resolve(plot.getKey() + ".png"));
        }
        System.out.println(
                "Wrote "
                        + signature.modelName()
                        + "-bench.csv and the plots to "
                        + out.toAbsolutePath());
        return complete;
    }

    private InferenceFunctionBuilder inference(int batch) {
        InferenceFunctionBuilder builder =
                InferenceFunction.builder()
                        .setModel(model.toString())
                        .setBackend(backend.name())
                        .setDevice(device)
                        .setMaxBatchSize(batch)
                        .setBuffersInFlight(buffersInFlight)
                        .setMaxDelay(Duration.ofMillis(maxDelayMs));
        options.forEach(builder::setBackendOption);
        return builder;
    }

    /** Enough requests to keep the stage busy for about the configured duration. */
    private long records(double recordsPerSecond) {
        return Math.min(
                maxRecords, Math.max(1000, (long) (recordsPerSecond * duration.toSeconds())));
    }

    private long requestBytes() {
        long bytes = 64;
        for (TensorSpec input : signature.inputs()) {
            bytes += input.sampleBytes() + 32;
        }
        return bytes;
    }

    private void row(
            String stage, int batch, int slots, double rps, double reference, String note) {
        BenchTable.Row row = new BenchTable.Row(stage, batch, slots, rps, reference, note);
        table.add(row);
        System.out.printf(
                "  %s, batch %d, %d slot(s): %,.0f records/s%s%n",
                stage,
                batch,
                slots,
                rps,
                reference > 0 ? String.format(" (%.3f of raw)", rps / reference) : "");
    }

    private static double[] milliseconds(LatencyStats stats) {
        double[] ms = new double[PERCENTILES.length];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = stats.percentile(PERCENTILES[i]) / 1000.0;
        }
        return ms;
    }

    private static double[] xs(Map<Integer, Double> figures) {
        return figures.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
    }

    private static double[] ys(Map<Integer, Double> figures) {
        return figures.values().stream().mapToDouble(Double::doubleValue).toArray();
    }
}
