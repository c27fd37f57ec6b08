package io.flinktrt.tools.cli;

import io.flinktrt.jobs.cli.KafkaCliOptions;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.LabelScore;
import io.flinktrt.schema.Tensor;
import io.flinktrt.tools.files.NpyStackWriter;
import io.flinktrt.tools.files.OutcomeJson;
import io.flinktrt.tools.files.OutcomeSummary;
import io.flinktrt.tools.files.TensorValues;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** Reads results and dead-letter failures, prints or saves them, and sums them up. */
@Command(
        name = "consume",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Read results from the output topic and failures from the dead-letter topic (read_committed),"
                    + " print them, or save them with --output DIR or --jsonl, then print a summary: results by backend,"
                    + " failures by code, latency percentiles from the results' timings.",
            "Stops after --count outcomes (then reads --drain-ms longer), or when nothing arrived for --idle-s seconds.",
            "Request ids read more than once are reported in the summary."
        },
        footerHeading = "%nExamples (... = --bootstrap-servers localhost:9092):%n",
        footer = {
            "  consume ... --from-beginning",
            "  consume ... --count 1000 --output out/     (out/<output>.npy, out/ids.txt)",
            "  consume ... --count 1000 --drain-ms 5000   (and a late duplicate, if one comes)",
            "  consume ... --jsonl > results.jsonl"
        })
public final class ConsumeCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--from-beginning",
            description =
                    "Read the topics from their start; by default only what arrives from now on.")
    boolean fromBeginning;

    @Option(
            names = "--count",
            defaultValue = "0",
            description = "Stop after this many outcomes; 0 = no limit (default).")
    int count;

    @Option(
            names = "--drain-ms",
            defaultValue = "0",
            description =
                    "After --count outcomes, keep reading this long, so that an outcome that comes again"
                            + " later (a duplicate) is read, saved and reported too (default: ${DEFAULT-VALUE}).")
    long drainMillis;

    @Option(
            names = "--idle-s",
            defaultValue = "10",
            description =
                    "Stop when nothing arrived for this many seconds (default: ${DEFAULT-VALUE}).")
    int idleSeconds;

    @Option(
            names = "--output",
            paramLabel = "DIR",
            description =
                    "Save results: DIR/<output name>.npy per output tensor, rows stacked in arrival order,"
                            + " DIR/ids.txt with the request id of each row, DIR/failures.jsonl with the failures.")
    Path outputDir;

    @Option(
            names = "--jsonl",
            description =
                    "Print each outcome as one JSON line on stdout (the summary goes to stderr).")
    boolean jsonl;

    @Option(
            names = "--show",
            defaultValue = "8",
            description = "Values per output printed per result (default: ${DEFAULT-VALUE}).")
    int show;

    @Mixin KafkaCliOptions kafka;

    @Override
    public Integer call() throws Exception {
        if (kafka.bootstrapServers == null) {
            throw new ParameterException(spec.commandLine(), "--bootstrap-servers is required.");
        }
        if (drainMillis < 0) {
            throw new ParameterException(spec.commandLine(), "--drain-ms must not be negative.");
        }
        Properties client = kafka.clientProperties();
        client.setProperty("bootstrap.servers", kafka.bootstrapServers);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter report = jsonl ? err : out; // stdout stays pure JSON lines
        report.println(
                "Reading "
                        + kafka.outputTopic
                        + " and "
                        + kafka.deadLetterTopic
                        + " at "
                        + kafka.bootstrapServers
                        + (fromBeginning ? " from the beginning" : " from now on"));
        report.flush();
        OutcomeSummary summary = new OutcomeSummary();
        try (OutcomeReader reader =
                        new OutcomeReader(
                                client, kafka.outputTopic, kafka.deadLetterTopic, fromBeginning);
                Saved saved = outputDir == null ? null : new Saved(outputDir)) {
            long idleSince = System.nanoTime();
            long drainEnd = 0;
            boolean draining = false;
            while (System.nanoTime() - idleSince < TimeUnit.SECONDS.toNanos(idleSeconds)) {
                if (count > 0 && summary.outcomes() >= count) {
                    if (!draining) {
                        draining = true;
                        drainEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
                    }
                    if (System.nanoTime() - drainEnd >= 0) {
                        break;
                    }
                }
                int read =
                        reader.poll(
                                Duration.ofMillis(200),
                                outcome -> {
                                    if (drainMillis == 0
                                            && count > 0
                                            && summary.outcomes() >= count) {
                                        return; // the poll returned more than asked for
                                    }
                                    summary.add(outcome);
                                    if (jsonl) {
                                        out.println(OutcomeJson.line(outcome));
                                    } else if (saved == null) {
                                        out.println(line(outcome));
                                    }
                                    if (saved != null) {
                                        saved.add(outcome);
                                    }
                                });
                if (read > 0) {
                    idleSince = System.nanoTime();
                }
            }
            out.flush();
            if (saved != null) {
                saved.describe(report);
            }
        }
        summary.print(report);
        return count > 0 && summary.outcomes() < count ? 1 : 0;
    }

    private String line(OutcomeReader.Outcome outcome) {
        if (outcome.failure() != null) {
            return outcome.id()
                    + "  FAILED "
                    + outcome.failure().getCode()
                    + ": "
                    + outcome.failure().getMessage();
        }
        InferenceResult result = outcome.result();
        StringBuilder line =
                new StringBuilder(result.getId())
                        .append("  ")
                        .append(result.getBackend())
                        .append(" batch ")
                        .append(result.getBatchSize())
                        .append(", ")
                        .append(result.getTimings().getTotalMicros() / 1000.0)
                        .append(" ms");
        if (result.getModelVersion() != null) {
            line.append("  ")
                    .append(result.getModel())
                    .append(" v")
                    .append(result.getModelVersion());
        }
        for (Tensor output : result.getOutputs()) {
            line.append("  ")
                    .append(output.getName())
                    .append(output.getShape())
                    .append('=')
                    .append(TensorValues.text(output, show));
        }
        for (LabelScore label : result.getLabels()) {
            line.append("  ")
                    .append(label.getLabel())
                    .append(String.format(" %.4f", label.getScore()));
        }
        if (result.getEmbedding() != null) {
            List<Float> embedding = result.getEmbedding();
            line.append("  embedding[")
                    .append(embedding.size())
                    .append("]=")
                    .append(embedding.subList(0, Math.min(show, embedding.size())))
                    .append(embedding.size() > show ? "..." : "");
        }
        if (result.getTruncated()) {
            line.append("  (text truncated)");
        }
        return line.toString();
    }

    /** Results stacked per output in .npy files, their ids, and the failures, in DIR. */
    private static final class Saved implements AutoCloseable {
        private final Path dir;
        private final Map<String, NpyStackWriter> outputs = new LinkedHashMap<>();
        private final BufferedWriter ids;
        private final BufferedWriter failures;
        private int failureCount;

        Saved(Path dir) throws IOException {
            this.dir = Files.createDirectories(dir);
            this.ids = Files.newBufferedWriter(dir.resolve("ids.txt"));
            this.failures = Files.newBufferedWriter(dir.resolve("failures.jsonl"));
        }

        void add(OutcomeReader.Outcome outcome) {
            try {
                if (outcome.failure() != null) {
                    failures.write(OutcomeJson.line(outcome));
                    failures.newLine();
                    failureCount++;
                    return;
                }
                for (Tensor output : outcome.result().getOutputs()) {
                    NpyStackWriter writer = outputs.get(output.getName());
                    if (writer == null) {
                        writer = new NpyStackWriter(dir.resolve(output.getName() + ".npy"), output);
                        outputs.put(output.getName(), writer);
                    }
                    writer.add(output);
                }
                ids.write(outcome.id());
                ids.newLine();
            } catch (IOException e) {
                throw new UncheckedIOException("Could not save to " + dir, e);
            }
        }

        void describe(PrintWriter report) {
            report.println("Saved:");
            outputs.values().forEach(w -> report.println("  " + w.describe()));
            report.println("  " + dir.resolve("ids.txt") + " (request id of each row)");
            report.println(
                    "  " + dir.resolve("failures.jsonl") + " (" + failureCount + " failures)");
        }

        @Override
        public void close() throws IOException {
            try (ids;
                    failures) {
                for (NpyStackWriter writer : outputs.values()) {
                    writer.close();
                }
            }
        }
    }
}
