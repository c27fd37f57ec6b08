package io.flinktrt.tools.cli;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.cli.KafkaCliOptions;
import io.flinktrt.jobs.kafka.KafkaClientProperties;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;
import io.flinktrt.tools.files.ProgressBar;
import io.flinktrt.tools.files.TensorFile;
import io.flinktrt.tools.local.LocalRun;
import io.flinktrt.wire.RandomRequests;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * Pushes requests into the input topic: rows of .npy or raw tensor files, or random data for a
 * model.
 */
@Command(
        name = "produce",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Send requests to the input topic, one request per row (sample) of the given files,"
                        + " or --count random requests for --model. A progress bar goes to stderr.",
        footerHeading = "%nExamples (... = --bootstrap-servers localhost:9092):%n",
        footer = {
            "  produce ... --input x=images.npy",
            "  produce ... --input input_ids=ids.npy --input attention_mask=mask.npy",
            "  produce ... --raw x=x.f32 --dtype FLOAT32 --shape 16",
            "  produce ... --model models/mlp_classifier.onnx --count 10000 --rate 500"
        })
public final class ProduceCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--input",
            paramLabel = "NAME=FILE.npy",
            description =
                    "Model input NAME from a .npy file (np.save; little-endian, C order); its first axis is the"
                            + " sample axis. Repeat once per input of a multi-input model.")
    List<String> npyInputs = new ArrayList<>();

    @Option(
            names = "--raw",
            paramLabel = "NAME=FILE",
            description =
                    "Model input NAME from raw little-endian samples of --dtype and --shape, back to back.")
    List<String> rawInputs = new ArrayList<>();

    @Option(
            names = "--dtype",
            paramLabel = "DTYPE",
            description =
                    "Element type of the --raw files: one for all, or one per --raw in order (${COMPLETION-CANDIDATES}).")
    List<DataType> rawDtypes = new ArrayList<>();

    @Option(
            names = "--shape",
            paramLabel = "D1,D2,...",
            description =
                    "Shape of one sample (no batch axis) of the --raw files: one for all, or one per --raw in order.")
    List<String> rawShapes = new ArrayList<>();

    @Option(
            names = "--model",
            paramLabel = "FILE",
            description =
                    "Send random requests that fit this model (ONNX file or TensorRT plan) instead of files.")
    Path model;

    @Option(
            names = "--backend",
            defaultValue = Backends.AUTO,
            description =
                    "Backend that opens --model to read its inputs (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(
            names = "--texts",
            paramLabel = "FILE",
            description =
                    "Text requests, one per line of FILE (UTF-8; an empty line is sent as empty text),"
                            + " for a job started with --tokenizer.")
    Path texts;

    @Option(
            names = "--count",
            description = "Requests to send: default every row of the files, or 100 random ones.")
    Integer count;

    @Option(
            names = "--rate",
            defaultValue = "0",
            description = "Requests per second; 0 = as fast as possible (default).")
    int rate;

    @Option(
            names = "--id-prefix",
            defaultValue = "req-",
            description =
                    "Request ids are this prefix and the row number (default: ${DEFAULT-VALUE}).")
    String idPrefix;

    @Option(
            names = "--int-range",
            defaultValue = "100",
            description =
                    "Random integer inputs are drawn from [0, N) (default: ${DEFAULT-VALUE}).")
    int intRange;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Seed of the random requests (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin KafkaCliOptions kafka;

    /** Request number i. */
    private interface Requests {
        InferenceRequest get(int i) throws IOException;
    }

    @Override
    public Integer call() throws Exception {
        if (kafka.bootstrapServers == null) {
            throw new ParameterException(spec.commandLine(), "--bootstrap-servers is required.");
        }
        boolean fromFiles = !npyInputs.isEmpty() || !rawInputs.isEmpty();
        if ((fromFiles ? 1 : 0) + (model != null ? 1 : 0) + (texts != null ? 1 : 0) != 1) {
            throw new ParameterException(
                    spec.commandLine(), "Give one of: --input/--raw files, --model, --texts.");
        }
        Properties client = kafka.clientProperties();
        client.setProperty("bootstrap.servers", kafka.bootstrapServers);
        PrintWriter out = spec.commandLine().getOut();
        List<TensorFile> files = new ArrayList<>();
        try {
            Requests requests;
            int total;
            if (fromFiles) {
                files.addAll(openFiles());
                long rows = files.get(0).rows();
                for (TensorFile file : files) {
                    if (file.rows() != rows) {
                        throw new ParameterException(
                                spec.commandLine(),
                                "Inputs have different numbers of samples: "
                                        + files.get(0)
                                        + " and "
                                        + file
                                        + ".");
                    }
                }
                total =
                        (int)
                                Math.min(
                                        count == null ? rows : count,
                                        Math.min(rows, Integer.MAX_VALUE));
                requests = i -> fromRow(files, i);
                out.println("Sending " + total + " requests from " + files);
            } else if (texts != null) {
                List<String> lines = Files.readAllLines(texts);
                total = count == null ? lines.size() : Math.min(count, lines.size());
                requests =
                        i ->
                                new InferenceRequest(
                                        idPrefix + i, Map.of(), List.of(), lines.get(i), null);
                out.println("Sending " + total + " text requests from " + texts);
            } else {
                ModelSignature signature = signature();
                RandomRequests random = new RandomRequests(signature, intRange, seed);
                total = count == null ? 100 : count;
                requests = i -> random.next(idPrefix + i);
                out.println(
                        "Sending "
                                + total
                                + " random requests for "
                                + signature.modelName()
                                + " "
                                + signature.inputs());
            }
            out.println(
                    "Kafka: "
                            + kafka.bootstrapServers
                            + ", topic "
                            + kafka.inputTopic
                            + " "
                            + KafkaClientProperties.describe(client));
            out.flush();
            return send(client, requests, total, out);
        } finally {
            for (TensorFile file : files) {
                file.close();
            }
        }
    }

    private int send(Properties client, Requests requests, int total, PrintWriter out)
            throws Exception {
        long failed;
        long start = System.nanoTime();
        try (RequestProducer producer = new RequestProducer(client, kafka.inputTopic)) {
            ProgressBar progress = new ProgressBar(spec.commandLine().getErr(), "requests", total);
            for (int i = 0; i < total; i++) {
                if (rate > 0) {
                    LocalRun.pace(start, i, rate);
                }
                producer.send(requests.get(i));
                progress.update(i + 1);
            }
            producer.flush(); // the count below is final only once every send was acknowledged
            progress.finish(total);
            failed = producer.failedSends();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(
                "Sent %d requests to %s in %.1f s (%.0f/s)%s%n",
                total - failed,
                kafka.inputTopic,
                seconds,
                (total - failed) / seconds,
                failed == 0 ? "" : "; " + failed + " sends FAILED (see above)");
        return failed == 0 ? 0 : 1;
    }

    private InferenceRequest fromRow(List<TensorFile> files, int row) throws IOException {
        List<Tensor> tensors = new ArrayList<>(files.size());
        for (TensorFile file : files) {
            tensors.add(file.row(row));
        }
        return new InferenceRequest(idPrefix + row, Map.of(), tensors, null, null);
    }

    private List<TensorFile> openFiles() throws IOException {
        if (!rawInputs.isEmpty() && (!fitsRaw(rawDtypes.size()) || !fitsRaw(rawShapes.size()))) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--raw needs one --dtype and one --shape for all files, or one of each per --raw.");
        }
        List<TensorFile> files = new ArrayList<>();
        try {
            for (String input : npyInputs) {
                files.add(TensorFile.npy(nameOf(input, "--input"), Path.of(fileOf(input))));
            }
            for (int i = 0; i < rawInputs.size(); i++) {
                String input = rawInputs.get(i);
                files.add(
                        TensorFile.raw(
                                nameOf(input, "--raw"),
                                Path.of(fileOf(input)),
                                rawDtypes.get(rawDtypes.size() == 1 ? 0 : i),
                                shape(rawShapes.get(rawShapes.size() == 1 ? 0 : i))));
            }
        } catch (IOException | RuntimeException e) {
            for (TensorFile file : files) {
                file.close();
            }
            throw e;
        }
        return files;
    }

    private boolean fitsRaw(int given) {
        return given == 1 || given == rawInputs.size();
    }

    private String nameOf(String input, String flag) {
        int eq = input.indexOf('=');
        if (eq <= 0 || eq == input.length() - 1) {
            throw new ParameterException(
                    spec.commandLine(), flag + " takes NAME=FILE, got '" + input + "'.");
        }
        return input.substring(0, eq);
    }

    private static String fileOf(String input) {
        return input.substring(input.indexOf('=') + 1);
    }

    private long[] shape(String dims) {
        try {
            long[] shape =
                    Arrays.stream(dims.split(","))
                            .map(String::trim)
                            .mapToLong(Long::parseLong)
                            .toArray();
            if (Arrays.stream(shape).anyMatch(d -> d <= 0)) {
                throw new NumberFormatException();
            }
            return shape;
        } catch (NumberFormatException e) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--shape takes positive dimensions like 3,224,224, got '" + dims + "'.");
        }
    }

    private ModelSignature signature() throws Exception {
        return Backends.describe(backend, model);
    }
}
