package io.flinktrt.tools.bench;

import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;
import io.flinktrt.tools.local.LatencyStats;
import io.flinktrt.tools.local.LocalRunReport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs the bench stages for one model and writes the table, CSV and plots. */
public final class Benchmark {

    private static final double[] PERCENTILES = {50, 75, 90, 95, 99, 99.9};

    /** The fixed loads of the latency stage, as fractions of the measured throughput. */
    private static final double[] LOADS = {0.5, 0.9};

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
    private final BenchRequests requests;
    private final BenchTable table = new BenchTable();

    // Records/s by batch size, as the stages measure them.
    private final Map<Integer, Double> raw = new LinkedHashMap<>();
    private final Map<Integer, Double> operator = new LinkedHashMap<>();

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
            Path out,
            BenchRequests requests) {
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
        this.requests = requests;
    }

    /** Returns false when a stage could not produce its figure. */
    public boolean run(List<Integer> sizes, List<Integer> slots, List<String> stages)
            throws Exception {
        Files.createDirectories(out);
        System.out.printf(
                "Model %s, requests: %s, %,d bytes each on average, batch sizes %s, %d s per figure%n",
                signature.modelName(), requests, requests.meanBytes(), sizes, duration.toSeconds());
        runnerAlone(sizes);
        int best = raw.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        if (stages.contains("operator")) {
            operatorThroughput(sizes);
        }
        if (stages.contains("slots")) {
            slotsPerGpu(best, slots);
        }
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
            operatorLatency(best, latencies);
        }
        boolean complete = true;
        if (stages.contains("job")
                || stages.contains("latency")
                || stages.contains("kafka")
                || stages.contains("job-slots")) {
            complete = throughKafka(best, stages, slots, latencies);
        }
        writeTableAndPlots(stages.contains("latency") ? latencies : null);
        return complete;
    }

    /**
     * Stage raw: a runner per batch size, its max batch = that size (no padding to a larger
     * bucket).
     */
    private void runnerAlone(List<Integer> sizes) throws Exception {
        for (int batch : sizes) {
            try (ModelRunner runner =
                    backend.open(new ModelConfig(model, device, batch, buffersInFlight, options))) {
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
    }

    /** Stage operator: the operator in a local Flink fed from memory, one slot. */
    private void operatorThroughput(List<Integer> sizes) throws Exception {
        for (int batch : sizes) {
            operator.put(
                    batch,
                    OperatorThroughput.recordsPerSecond(
                            requests.payloads(), inference(batch), 1, records(raw.get(batch))));
            row(
                    "operator (memory source)",
                    batch,
                    1,
                    operator.get(batch),
                    raw.get(batch),
                    "ratio = operator / raw with copies");
        }
    }

    /** Stage slots: the operator at the best batch size on more slots, a runner each. */
    private void slotsPerGpu(int best, List<Integer> slots) throws Exception {
        double bestRaw = raw.get(best);
        for (int slotCount : slots) {
            try (DeviceMemorySampler memory = new DeviceMemorySampler(device)) {
                double rps =
                        OperatorThroughput.recordsPerSecond(
                                requests.payloads(),
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

    /**
     * Stage latency, first half: the operator alone (memory source, no Kafka) at fixed loads of its
     * own throughput.
     */
    private void operatorLatency(int best, Plot latencies) throws Exception {
        double operatorRate = operator.getOrDefault(best, raw.get(best));
        for (double load : LOADS) {
            int rate = (int) Math.max(1, load * operatorRate);
            OperatorLatency.Figure figure =
                    OperatorLatency.run(
                            slots -> new OperatorLatency.SampleLoad(requests.samples(), slots),
                            inference(best),
                            rate,
                            duration);
            row(
                    String.format("operator latency @%.0f%%", load * 100),
                    best,
                    1,
                    figure.resultsPerSecond(),
                    0,
                    String.format("%s; %s", figure.latency().summary(), latencyTarget(best)));
            latencies.line(
                    String.format("operator, %.0f%% load (%,d/s)", load * 100, rate),
                    PERCENTILES,
                    milliseconds(figure.latency()));
        }
    }

    /**
     * Stages kafka, job and the second half of latency, on one embedded broker; returns false when
     * a job run did not answer every request.
     */
    private boolean throughKafka(int best, List<String> stages, List<Integer> slots, Plot latencies)
            throws Exception {
        boolean complete = true;
        try (KafkaJobThroughput jobs = new KafkaJobThroughput()) {
            // The operator is the job's upper bound: size the run by it, so it lasts about the set
            // duration.
            double upperBound = operator.getOrDefault(best, raw.get(best));
            int count = (int) Math.min(records(upperBound), jobMaxBytes / requests.meanBytes());
            double kafkaAlone = stages.contains("kafka") ? kafkaAlone(jobs, best, count) : 0;
            if (stages.contains("job") || stages.contains("latency")) {
                LocalRunReport job = jobThroughput(jobs, best, count, kafkaAlone);
                complete &= job.complete();
                if (stages.contains("latency")) {
                    complete &= jobLatency(jobs, best, job.throughput(), latencies);
                }
            }
            if (stages.contains("job-slots")) {
                complete &= jobSlots(jobs, best, slots, count);
            }
        }
        return complete;
    }

    /**
     * Stage kafka: the same requests produced and consumed at once, no Flink (the job's ceiling).
     */
    private double kafkaAlone(KafkaJobThroughput jobs, int best, int count) throws Exception {
        KafkaJobThroughput.KafkaAlone ceiling = jobs.kafkaAlone(requests.samples(), 1, count);
        row(
                "Kafka alone (no Flink)",
                best,
                1,
                ceiling.recordsPerSecond(),
                0,
                String.format(
                        "the job's ceiling: %,d requests"
                                + " of %,d bytes produced and consumed at once, 1 partition, the job's client settings; %.0f MB/s",
                        ceiling.requests(),
                        ceiling.requestBytes(),
                        ceiling.bytesPerSecond() / 1e6));
        return ceiling.recordsPerSecond();
    }

    /** Stage job: Kafka -> Flink -> Kafka with every request sent at once. */
    private LocalRunReport jobThroughput(
            KafkaJobThroughput jobs, int best, int count, double kafkaAlone) throws Exception {
        LocalRunReport job = jobs.run(signature, inference(best), 1, count, 0, requests::at);
        row(
                "job (Kafka->Flink->Kafka)",
                best,
                1,
                job.throughput(),
                raw.get(best),
                String.format(
                        "%,d requests sent at once (latency here is queueing; see the fixed-load rows)%s",
                        count,
                        kafkaAlone > 0
                                ? String.format(
                                        "; %.3f of Kafka alone", job.throughput() / kafkaAlone)
                                : ""));
        return job;
    }

    /**
     * Stage job-slots: the job at the best batch on each slot count, a topic partition per source
     * subtask, every request sent at once. Returns false when a run did not answer every request.
     */
    private boolean jobSlots(KafkaJobThroughput jobs, int best, List<Integer> slots, int count)
            throws Exception {
        boolean complete = true;
        for (int slotCount : slots) {
            try (DeviceMemorySampler memory = new DeviceMemorySampler(device)) {
                LocalRunReport report =
                        jobs.run(signature, inference(best), slotCount, count, 0, requests::at);
                complete &= report.complete();
                row(
                        "job, slots",
                        best,
                        slotCount,
                        report.throughput(),
                        raw.get(best),
                        "a partition per source subtask, one runner per slot"
                                + memory.summary(slotCount));
            }
        }
        return complete;
    }

    /**
     * Stage latency, second half: end to end through Kafka, as a user tuned for latency gets it:
     * requests sent at once (producer linger 0), results written at once (sink linger 0,
     * at-least-once: with EXACTLY_ONCE they would only be visible at each checkpoint's commit).
     * Returns false when a run did not answer every request.
     */
    private boolean jobLatency(
            KafkaJobThroughput jobs, int best, double jobThroughput, Plot latencies)
            throws Exception {
        boolean complete = true;
        for (double load : LOADS) {
            int rate = (int) Math.max(1, load * jobThroughput);
            LocalRunReport report =
                    jobs.run(
                            signature,
                            inference(best),
                            1,
                            (int)
                                    Math.min(
                                            (long) rate * duration.toSeconds(),
                                            jobMaxBytes / requests.meanBytes()),
                            rate,
                            requests::at);
            complete &= report.complete();
            LatencyStats stats = report.latency();
            row(
                    String.format("latency @%.0f%% of job", load * 100),
                    best,
                    1,
                    report.throughput(),
                    0,
                    String.format(
                            "Kafka end to end: %s; %s", stats.summary(), latencyTarget(best)));
            latencies.line(
                    String.format("Kafka job, %.0f%% load (%,d/s)", load * 100, rate),
                    PERCENTILES,
                    milliseconds(stats));
        }
        return complete;
    }

    /** Prints the table, writes it as CSV, and writes the plots (latency: null when not run). */
    private void writeTableAndPlots(Plot latencies) throws IOException {
        Map<String, Plot> plots = new LinkedHashMap<>();
        if (latencies != null) {
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
    }

    /** The p99 the operator should keep at the best batch size. */
    private String latencyTarget(int best) {
        double batchComputeMs = best / raw.get(best) * 1000;
        return String.format(
                "target p99 <= max-delay + 2 x batch compute = %.1f ms",
                maxDelayMs + 2 * batchComputeMs);
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
