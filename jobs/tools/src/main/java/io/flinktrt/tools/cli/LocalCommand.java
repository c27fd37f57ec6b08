package io.flinktrt.tools.cli;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.cli.DeliveryCliOptions;
import io.flinktrt.jobs.cli.InferenceCliOptions;
import io.flinktrt.jobs.cli.InferenceDefaults;
import io.flinktrt.jobs.cli.JobFactory;
import io.flinktrt.jobs.cli.KafkaCliOptions;
import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.jobs.kafka.KafkaClientProperties;
import io.flinktrt.tools.local.LocalRun;
import io.flinktrt.tools.local.LocalRunReport;
import io.flinktrt.tools.local.SwapRehearsal;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;

/** The whole pipeline on one machine: embedded Kafka, a local Flink, sample requests, a report. */
@Command(
        name = "local",
        mixinStandardHelpOptions = true,
        defaultValueProvider = InferenceDefaults.class,
        resourceBundle = "io.flinktrt.jobs.cli.BackendOptionsHelp",
        description =
                "Run the job locally: start an embedded Kafka (or use --bootstrap-servers), run the Flink job"
                        + " in this JVM, send sample requests, read the results back, print throughput, latency and a few"
                        + " predictions, and exit 0 when every request came back.")
public final class LocalCommand implements Callable<Integer> {

    static final String DEFAULT_MODEL = "models/mlp_classifier.onnx";

    @Mixin InferenceCliOptions inference;

    @Mixin KafkaCliOptions kafka;

    @Mixin DeliveryCliOptions delivery;

    @Option(
            names = "--requests",
            defaultValue = "2000",
            description = "Sample requests to send (default: ${DEFAULT-VALUE}).")
    int requests;

    @Option(
            names = "--bad-requests",
            defaultValue = "4",
            description =
                    "Bad requests mixed in to show the dead-letter topic (default: ${DEFAULT-VALUE}).")
    int badRequests;

    @Option(
            names = "--rate",
            defaultValue = "0",
            description = "Requests per second; 0 = as fast as possible.")
    int rate;

    @Option(
            names = "--parallelism",
            defaultValue = "1",
            description = "Flink parallelism = slots (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--int-range",
            defaultValue = "100",
            description =
                    "Integer inputs are drawn from [0, N) (token ids must fit the vocabulary; default: ${DEFAULT-VALUE}).")
    int intRange;

    @Option(
            names = "--show",
            defaultValue = "3",
            description = "Predictions to print (default: ${DEFAULT-VALUE}).")
    int show;

    @Option(
            names = "--swap-in",
            paramLabel = "DIR",
            description =
                    "A rehearsal of shipping a model: after --swap-after-s, DIR (model.onnx and/or model.plan)"
                            + " is copied into --model-repository as --model-name's next version, the way"
                            + " docs/operations.md says; the report tells when its results began and the"
                            + " latency and GPU memory around the swap.")
    Path swapIn;

    @Option(
            names = "--swap-after-s",
            defaultValue = "10",
            description =
                    "Seconds after the first request to ship --swap-in (default: ${DEFAULT-VALUE}).")
    double swapAfterSeconds;

    @Option(
            names = "--wait-s",
            defaultValue = "300",
            description = "Give up waiting for results after this long.")
    int waitSeconds;

    private SwapRehearsal swapRehearsal() {
        if (swapIn == null) {
            return null;
        }
        if (inference.modelRepository == null) {
            throw new IllegalArgumentException(
                    "--swap-in ships into --model-repository: give that and --model-name.");
        }
        if (!Files.isDirectory(swapIn)) {
            throw new IllegalArgumentException(
                    "--swap-in "
                            + swapIn
                            + " is not a directory holding model.onnx or model.plan.");
        }
        return new SwapRehearsal(
                Path.of(inference.modelRepository, inference.modelName),
                swapIn,
                (long) (swapAfterSeconds * 1e9));
    }

    @Override
    public Integer call() throws Exception {
        if (inference.model == null && inference.modelRepository == null) {
            Path here = Path.of(DEFAULT_MODEL);
            inference.model =
                    Files.isRegularFile(here)
                            ? DEFAULT_MODEL
                            : Path.of(System.getProperty("flinktrt.home", "."), DEFAULT_MODEL)
                                    .toString();
        }
        Backends.FileSelection starting = inference.startingModel();
        Path model = starting.file();
        Backends.Selection selection = starting.selection();
        System.out.println(
                "Backend: " + selection.backend().name() + " (" + selection.reason() + ")");
        ModelSignature signature = Backends.describe(selection.backend().name(), model);
        System.out.println(
                "Model: "
                        + signature.modelName()
                        + " inputs "
                        + signature.inputs()
                        + " outputs "
                        + signature.outputs()
                        + ", max batch "
                        + (inference.maxBatch > 0 ? inference.maxBatch : signature.maxBatchSize()));
        inference.backend =
                selection.backend().name(); // the operator uses what was chosen and printed here

        EmbeddedKafka embedded = null;
        try {
            Properties client = kafka.clientProperties();
            String servers = kafka.bootstrapServers;
            if (servers == null) {
                System.out.println("Starting an embedded Kafka (KRaft, single node) ...");
                embedded = EmbeddedKafka.start();
                servers = embedded.bootstrapServers();
                client.putAll(embedded.clientProperties());
            }
            client.setProperty("bootstrap.servers", servers);
            System.out.println("Kafka: " + servers + " " + KafkaClientProperties.describe(client));
            EmbeddedKafka.createTopics(
                    client,
                    parallelism,
                    List.of(kafka.inputTopic, kafka.outputTopic, kafka.deadLetterTopic));
            String runId = "run-" + UUID.randomUUID().toString().substring(0, 8);
            kafka.groupId =
                    kafka.groupId
                            + "-"
                            + runId; // a new group reads the run's records from the start
            var job = JobFactory.create(inference, kafka, delivery, servers, client, true);
            LocalRunReport report =
                    new LocalRun(
                                    job,
                                    signature,
                                    client,
                                    kafka.inputTopic,
                                    kafka.outputTopic,
                                    kafka.deadLetterTopic,
                                    parallelism,
                                    runId)
                            .run(
                                    requests,
                                    badRequests,
                                    rate,
                                    intRange,
                                    waitSeconds,
                                    swapRehearsal(),
                                    inference.device);
            report.print(System.out, selection.backend().name(), show);
            return report.complete() ? 0 : 1;
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }
}
