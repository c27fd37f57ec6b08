package io.flinktrt.tools.cli;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.cli.InferenceDefaults;
import io.flinktrt.tools.bench.BenchRequests;
import io.flinktrt.tools.bench.Benchmark;
import io.flinktrt.tools.bench.Plot;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Measures the backend alone, the operator in Flink, and the full Kafka job, side by side. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        defaultValueProvider = InferenceDefaults.class,
        resourceBundle = "io.flinktrt.jobs.cli.BackendOptionsHelp",
        description =
                "Benchmark one model: (1) the backend alone (with"
                        + " copies), (2) the operator in a local Flink fed from memory, (3) the full job through an embedded"
                        + " Kafka, next to Kafka alone on the same broker (the job's ceiling: the same requests and client settings,"
                        + " no Flink), (4) latency at 50%% and 90%% load (open loop): of the operator alone (memory source) and of the job"
                        + " through Kafka, (5) slots"
                        + " per GPU, of the operator (slots) and of the job (job-slots, not run by default). Requests carry"
                        + " random tensors, or with --images the photos given. Prints one table and writes CSV and PNG plots"
                        + " to --out.")
public final class BenchCommand implements Callable<Integer> {

    @Option(
            names = "--model",
            description = "ONNX file or TensorRT plan (required unless --plots-from).")
    Path model;

    @Option(
            names = "--plots-from",
            paramLabel = "DIR",
            description =
                    "Only draw the PNG plots from the .plot.txt files an earlier run left in DIR.")
    Path plotsFrom;

    @Option(names = "--backend", description = "Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--device", description = "GPU index (default: ${DEFAULT-VALUE}).")
    int device;

    @Option(
            names = "--batch-sizes",
            defaultValue = "1,8,32,max",
            split = ",",
            description = "Batch sizes; 'max' is the model's limit (default: ${DEFAULT-VALUE}).")
    List<String> batchSizes;

    @Option(
            names = "--slots",
            defaultValue = "1,2,4",
            split = ",",
            description = "Slots (parallelism) to compare (default: ${DEFAULT-VALUE}).")
    List<Integer> slots;

    @Option(
            names = "--seconds",
            defaultValue = "10",
            description = "Length of each measurement (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(
            names = "--max-delay-ms",
            description = "The operator's max delay (default: ${DEFAULT-VALUE}).")
    long maxDelayMs;

    @Option(
            names = "--stages",
            defaultValue = "raw,operator,job,kafka,latency,slots",
            split = ",",
            description =
                    "Which stages to run (default: ${DEFAULT-VALUE}; job-slots runs the job on each --slots"
                            + " count); raw always runs.")
    List<String> stages;

    @Option(
            names = "--images",
            paramLabel = "GLOB",
            description =
                    "Send these JPEG or PNG files as image requests, cycling, instead of random tensors,"
                            + " e.g. 'models/images/photo-224-*.jpg' (quoted: the pattern is ours, not the"
                            + " shell's); the raw stage still runs the engine on random tensors.")
    String images;

    @Option(
            names = "--job-max-bytes",
            defaultValue = "2000000000",
            description =
                    "Cap on the bytes of requests sent through Kafka per job run (default: ${DEFAULT-VALUE}).")
    long jobMaxBytes;

    @Option(
            names = "--max-records",
            defaultValue = "1000000",
            description =
                    "Cap on the requests of one operator or job run (default: ${DEFAULT-VALUE}).")
    long maxRecords;

    @Option(
            names = "--buffers-in-flight",
            description =
                    "Batches per runner in flight at once, for the backend alone"
                            + " and the operator alike, as inference.buffers-in-flight (default: ${DEFAULT-VALUE}).")
    int buffersInFlight;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Backend option, e.g. tensorrt.cuda-graphs=false; listed below.")
    List<String> settings = new ArrayList<>();

    @Option(
            names = "--out",
            defaultValue = "bench-out",
            description = "Folder for CSV and PNG (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (plotsFrom != null) {
            Plot.drawAll(plotsFrom);
            return 0;
        }
        if (model == null) {
            throw new picocli.CommandLine.ParameterException(
                    new picocli.CommandLine(this), "--model is required.");
        }
        Map<String, String> options = new HashMap<>();
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            options.put(setting.substring(0, eq), setting.substring(eq + 1));
        }
        Backends.Selection selection = Backends.select(backend, model);
        System.out.println(
                "Backend: " + selection.backend().name() + " (" + selection.reason() + ")");
        ModelSignature signature = Backends.describe(selection.backend().name(), model);
        List<Integer> sizes = new ArrayList<>();
        for (String size : batchSizes) {
            int value =
                    size.equals("max") ? signature.maxBatchSize() : Integer.parseInt(size.trim());
            if (!sizes.contains(value)) {
                sizes.add(value);
            }
        }
        return new Benchmark(
                                selection.backend(),
                                model,
                                device,
                                signature,
                                options,
                                buffersInFlight,
                                seconds,
                                maxDelayMs,
                                jobMaxBytes,
                                maxRecords,
                                out,
                                images != null
                                        ? BenchRequests.images(images)
                                        : BenchRequests.random(signature))
                        .run(sizes, slots, stages)
                ? 0
                : 1;
    }
}
