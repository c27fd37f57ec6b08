package io.flinktrt.e2e;

import io.flinktrt.backend.Backends;
import io.flinktrt.jobs.kafka.BadRequests;
import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.jobs.kafka.SteadyRequests;
import io.flinktrt.jobs.kafka.StreamOutcomes;
import io.flinktrt.repository.RepositoryVersions;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.tools.cli.Cli;
import io.flinktrt.tools.files.Npy;
import io.flinktrt.tools.files.TensorFile;
import io.flinktrt.wire.RandomRequests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The job jar on a real Flink cluster, as the README runs it: {@code scripts/cluster.sh} starts a
 * JobManager, two TaskManagers (one slot each) and a Kafka broker, each in its own JVM, once for
 * all these tests; jobs are submitted with Flink's CLI ({@code flink run -d -p N
 * flink-tensorrt-job.jar ...}) and EXACTLY_ONCE delivery; requests go in with {@code produce} and
 * come back with {@code consume} (read_committed). Every request must come back exactly once.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    private static final Path MODEL = TestModels.path(TestModels.MLP).toAbsolutePath();
    private static final int FEATURES =
            16; // mlp_classifier: x float32 [N,16] -> probs float32 [N,10]

    /** produce and consume side by side (the common pool has one thread on a 2-core machine). */
    private static final ExecutorService BACKGROUND = Executors.newCachedThreadPool();

    private static ClusterHarness cluster;
    private static Path work;

    @BeforeAll
    static void startCluster() throws Exception {
        work =
                Files.createDirectories(
                        ClusterHarness.ROOT.resolve("jobs/e2e-tests/target/cluster-it-work"));
        long start = System.nanoTime();
        cluster =
                ClusterHarness.up(ClusterHarness.ROOT.resolve("jobs/e2e-tests/target/cluster-it"));
        report("cluster up in %.0f s (JobManager, 2 TaskManagers, Kafka broker)", seconds(start));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        BACKGROUND.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    @Timeout(400)
    void atParallelismTwoOnBothTaskManagersEveryRequestComesBackOnceAsOnnxRuntimeComputesIt()
            throws Exception {
        int rows = 2_000;
        Run run = Run.start("p2", rows, 2);
        Topics topics = run.topics();
        Path input = run.input();
        String job = run.job();

        produce(topics, "--input", "x=" + input, "--id-prefix", "p2-");
        List<BadRequests.Bad> bad = new BadRequests().allKinds(sample(input, 0, "good"), "bad");
        try (RequestProducer producer = new RequestProducer(topics.client(), topics.input)) {
            bad.forEach(b -> producer.sendRaw(b.id(), b.payload()));
            producer.flush();
        }
        Path out = consume(topics, rows + bad.size(), "p2-out");

        assertEveryIdOnce(out, "p2-", rows);
        Map<String, String> codes = failureCodes(out);
        Map<String, String> expected = new HashMap<>();
        bad.forEach(b -> expected.put(b.id(), b.expected().name()));
        expected.put(null, expected.remove("bad-undecodable")); // an undecodable record has no id
        assertThat(codes).isEqualTo(expected);
        try (TensorFile probs = TensorFile.npy("probs", out.resolve("probs.npy"));
                TensorFile x = TensorFile.npy("x", input);
                OnnxReference reference = new OnnxReference(MODEL)) {
            List<String> ids = Files.readAllLines(out.resolve("ids.txt"));
            for (int i = 0; i < rows; i++) {
                int row = Integer.parseInt(ids.get(i).substring("p2-".length()));
                float[] want =
                        reference
                                .run(
                                        new InferenceRequest(
                                                "ref", Map.of(), List.of(x.row(row)), null, null))
                                .get("probs");
                assertThat(OnnxReference.floats(probs.row(i)))
                        .as("request %s", ids.get(i))
                        .containsExactly(want, within(1e-5f));
            }
        }
        for (JsonNode vertex : cluster.rest("/jobs/" + job).get("vertices")) {
            assertThat(cluster.taskManagersOf(job, vertex.get("name").asText()))
                    .as(vertex.get("name").asText())
                    .containsExactly("taskmanager-1", "taskmanager-2");
        }
        // ONNX Runtime's natives come from the one directory of onnxruntime.native.path, not a
        // fresh /tmp copy per JVM.
        for (int tm = 1; tm <= 2; tm++) {
            assertThat(cluster.mappedFiles(tm, "libonnxruntime"))
                    .as("taskmanager-%d", tm)
                    .isNotEmpty()
                    .allMatch(
                            file ->
                                    file.startsWith(
                                            cluster.home()
                                                    .resolve("flink/native/onnxruntime")
                                                    .toString()));
        }
        cluster.cancel(job);
    }

    @Test
    @Order(2)
    @Timeout(400)
    void aTaskManagerKilledMidStreamLosesAndDuplicatesNothing() throws Exception {
        int rows = 3_000;
        Run run = Run.start("kill", rows, 1);
        Topics topics = run.topics();
        String job = run.job();
        CompletableFuture<Void> producing = run.streamPast(3, "the TaskManager is killed");
        CompletableFuture<Path> consuming =
                CompletableFuture.supplyAsync(() -> consume(topics, rows, "kill-out"), BACKGROUND);

        String victim = cluster.taskManagersOf(job, "").iterator().next();
        long killed = System.nanoTime();
        cluster.killTaskManager(Integer.parseInt(victim.substring("taskmanager-".length())));
        // A checkpoint acknowledged before the kill may still complete after it: count from the
        // noticed failure.
        awaitTrue("the TaskManager's loss noticed", 180, () -> cluster.failures(job) >= 1);
        double noticed = seconds(killed);
        long checkpointsAtFailure = checkpoints(job);
        awaitTrue(
                "a checkpoint after the recovery",
                180,
                () -> checkpoints(job) > checkpointsAtFailure);
        double recovery = seconds(killed);
        cluster.startTaskManager(Integer.parseInt(victim.substring("taskmanager-".length())));

        producing.join();
        Path out = consuming.join();
        assertEveryIdOnce(out, "kill-", rows);
        int failures = cluster.failures(job);
        report(
                "SIGKILL of %s mid-stream: %d requests, 0 lost, 0 duplicated; %d failure(s) recovered; loss noticed %.1f s"
                        + " and first checkpoint after the restart (results visible again) %.1f s after the kill;"
                        + " 'already fenced' ERROR lines in the TaskManager logs: %d",
                victim,
                rows,
                failures,
                noticed,
                recovery,
                cluster.taskManagerLogLines("because its producer is already fenced").size());
        assertThat(failures)
                .as("failures in the job's exception history")
                .isGreaterThanOrEqualTo(1);
        cluster.cancel(job);
        awaitTrue(
                "both TaskManagers registered",
                180,
                () -> cluster.rest("/overview").get("taskmanagers").asInt() == 2);
    }

    @Test
    @Order(3)
    @Timeout(400)
    void stopWithSavepointAndResumeLosesAndDuplicatesNothing() throws Exception {
        int rows = 500;
        Run run = Run.start("sp", rows, 1);
        Topics topics = run.topics();
        Path input = run.input();
        String job = run.job();
        produce(topics, "--input", "x=" + input, "--id-prefix", "sp-a-");
        consume(topics, rows, "sp-out-a");
        String savepoint = cluster.stopWithSavepoint(job);
        assertThat(cluster.jobState(job)).isEqualTo("FINISHED");

        produce(topics, "--input", "x=" + input, "--id-prefix", "sp-b-"); // while no job runs
        String resumed = cluster.submit(1, List.of("-s", savepoint), jobArgs(topics));
        Path out = consume(topics, 2 * rows, "sp-out");
        List<String> ids = Files.readAllLines(out.resolve("ids.txt"));
        assertThat(ids).hasSize(2 * rows).doesNotHaveDuplicates();
        assertThat(ids.stream().filter(id -> id.startsWith("sp-b-"))).hasSize(rows);
        report(
                "stop-with-savepoint after %d requests, %d more while stopped, resumed from %s: %d outcomes, each once",
                rows, rows, savepoint, ids.size());
        cluster.cancel(resumed);
    }

    @Test
    @Order(4)
    @Timeout(400)
    void theKafkaBrokerKilledAndRestartedMidStreamLosesNothing() throws Exception {
        int rows = 2_000;
        Run run = Run.start("broker", rows, 1);
        Topics topics = run.topics();
        String job = run.job();
        CompletableFuture<Void> producing = run.streamPast(2, "the broker is killed");

        long killed = System.nanoTime();
        cluster.killKafka();
        cluster.startKafka();
        double down = seconds(killed);
        producing.join();
        Path out = consume(topics, rows, "broker-out");
        assertEveryIdOnce(out, "broker-", rows);
        awaitTrue("the job running", 120, () -> cluster.jobState(job).equals("RUNNING"));
        report(
                "Kafka broker killed (SIGKILL) and restarted mid-stream (%.0f s without a broker): %d requests, 0 lost,"
                        + " 0 duplicated; %d failure(s) recovered",
                down, rows, cluster.failures(job));
        cluster.cancel(job);
    }

    /**
     * README's "Flink SQL" on a cluster: the example script through SqlJobMain in the job jar,
     * attached.
     */
    @Test
    @Order(5)
    @Timeout(300)
    void theExampleSqlScriptRunsOnTheClusterThroughSqlJobMain() throws Exception {
        // as docs/sql.md says: the script's topics first. Its SELECT may start before the INSERT
        // that feeds it has written anything; on a missing topic that job fails, and Flink 2.2.1's
        // collect sink, cancelled before it opened, throws in close() and takes the TaskManager
        // down.
        Properties client = new Properties();
        client.put("bootstrap.servers", cluster.bootstrapServers());
        EmbeddedKafka.createTopics(client, 1, List.of("sql-requests", "sql-results"));
        String output =
                cluster.flink(
                        "run",
                        "-c",
                        "io.flinktrt.jobs.sql.SqlJobMain",
                        ClusterHarness.JOB_JAR.toString(),
                        "-f",
                        ClusterHarness.ROOT.resolve("examples/sql/ml-predict.sql").toString(),
                        "--var",
                        "bootstrap_servers=" + cluster.bootstrapServers(),
                        "--var",
                        "home=" + ClusterHarness.ROOT);
        assertThat(output)
                .contains("(5 rows)")
                .containsPattern("r1 \\| [0-9.]+ \\| \\[[-0-9., ]+\\] \\| null")
                .contains("r3 | null | null | INPUT column 'b' has 1 elements");
        for (JsonNode job :
                cluster.rest("/jobs/overview").get("jobs")) { // the script's pipeline keeps running
            if (job.get("state").asText().equals("RUNNING")) {
                cluster.cancel(job.get("jid").asText());
            }
        }
        report(
                "the example SQL script ran on the cluster: %s",
                output.substring(output.indexOf("id |")).replace('\n', ' '));
    }

    /**
     * A model updated on a running cluster: the job started with {@code --model-repository DIR
     * --model-name mlp} at parallelism 2 (one subtask on each TaskManager), version 2 dropped into
     * DIR while requests stream in. Each TaskManager's subtask takes it over at a checkpoint; per
     * input partition, in offset order (each partition is read by one source subtask chained to its
     * operator subtask), the results' versions switch from 1 to 2 once, every request is answered
     * exactly once, and each answer is ONNX Runtime's on the version it is labelled with.
     */
    @Test
    @Order(6)
    @Timeout(300)
    void aVersionAddedToTheModelRepositoryMidStreamTakesOverOncePerPartition() throws Exception {
        Path repository = Files.createTempDirectory(work, "swap-repo");
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        Topics topics = Topics.create("swap", 2);
        String job =
                cluster.submit(
                        2,
                        List.of(),
                        jobArgs(
                                topics,
                                "--model-repository",
                                repository.toString(),
                                "--model-name",
                                "mlp",
                                "--repository-poll-ms",
                                "200",
                                "--backend",
                                "onnxruntime"));
        long start = System.nanoTime();
        try (RequestProducer producer = new RequestProducer(topics.client(), topics.input);
                OutcomeReader reader =
                        new OutcomeReader(topics.client(), topics.output, topics.deadLetter, true);
                SteadyRequests requests =
                        new SteadyRequests(
                                producer,
                                new RandomRequests(
                                        Backends.describe(Backends.AUTO, MODEL), 100, 17),
                                "swap-",
                                200,
                                40_000)) {
            StreamOutcomes outcomes = new StreamOutcomes(reader);
            outcomes.await(
                    "results of both partitions",
                    Duration.ofSeconds(180),
                    () -> requests.versionRuns(outcomes.results()).size() == 2);
            RepositoryVersions.addMlpVersion(repository, "mlp", 2);
            outcomes.await(
                    "version 2 after version 1 in both partitions",
                    Duration.ofSeconds(120),
                    () ->
                            requests.versionRuns(outcomes.results())
                                    .equals(Map.of(0, List.of(1L, 2L), 1, List.of(1L, 2L))));
            int sent = requests.stopAfter(400, Duration.ofSeconds(60));
            outcomes.await(
                    "an outcome of every request",
                    Duration.ofSeconds(120),
                    () -> outcomes.answered() >= sent);
            outcomes.readFor(Duration.ofSeconds(3)); // three checkpoints: a late duplicate shows
            report(
                    "version 2 dropped into the model repository mid-stream: %d requests, each answered once"
                            + " in %.0f s; versions per input partition %s; failures %d",
                    sent,
                    seconds(start),
                    requests.versionRuns(outcomes.results()),
                    cluster.failures(job));

            requests.assertAnsweredOnceInRuns(outcomes, repository, "mlp", 2, List.of(1L, 2L));
            assertThat(cluster.failures(job)).as("failures of the job").isZero();
        }
        cluster.cancel(job);
    }

    // ---- helpers

    /**
     * One test's topics (two partitions), its samples and its job, submitted at {@code
     * parallelism}.
     */
    private record Run(Topics topics, Path input, String job) {

        /**
         * Once the job has checkpointed, sends the samples (ids {@code <run name>-N}, 100/s) in the
         * background and returns while they still stream, after {@code checkpoints} more
         * checkpoints.
         */
        CompletableFuture<Void> streamPast(int checkpoints, String beforeWhat) throws Exception {
            awaitTrue("the job's first checkpoint", 180, () -> checkpoints(job) >= 1);
            long before = checkpoints(job);
            CompletableFuture<Void> producing =
                    CompletableFuture.runAsync(
                            () ->
                                    produce(
                                            topics,
                                            "--input",
                                            "x=" + input,
                                            "--id-prefix",
                                            topics.group() + "-",
                                            "--rate",
                                            "100"),
                            BACKGROUND);
            awaitTrue(
                    checkpoints + " checkpoints while requests stream in",
                    120,
                    () -> checkpoints(job) >= before + checkpoints);
            assertThat(producing).as("still sending when " + beforeWhat).isNotDone();
            return producing;
        }

        static Run start(String name, int rows, int parallelism) throws Exception {
            Topics topics = Topics.create(name, 2);
            Path input = writeSamples(work.resolve(name + "-x.npy"), rows);
            return new Run(topics, input, cluster.submit(parallelism, List.of(), jobArgs(topics)));
        }
    }

    /** The three topics of one test, created on the cluster's broker. */
    private record Topics(String input, String output, String deadLetter, String group) {

        static Topics create(String name, int partitions) throws Exception {
            Topics topics =
                    new Topics(name + "-requests", name + "-results", name + "-dead-letter", name);
            EmbeddedKafka.createTopics(
                    topics.client(),
                    partitions,
                    List.of(topics.input, topics.output, topics.deadLetter));
            return topics;
        }

        Properties client() {
            Properties client = new Properties();
            client.put("bootstrap.servers", cluster.bootstrapServers());
            return client;
        }

        List<String> flags() {
            return List.of(
                    "--bootstrap-servers",
                    cluster.bootstrapServers(),
                    "--input-topic",
                    input,
                    "--output-topic",
                    output,
                    "--dead-letter-topic",
                    deadLetter);
        }
    }

    /** The arguments after the jar, as the README gives them. */
    private static String[] jobArgs(Topics topics) {
        return jobArgs(topics, "--model", MODEL.toString());
    }

    /** With {@code model}'s flags instead of {@code --model mlp_classifier.onnx}. */
    private static String[] jobArgs(Topics topics, String... model) {
        List<String> args = new ArrayList<>(topics.flags());
        args.addAll(List.of("--group-id", topics.group));
        args.addAll(List.of(model));
        args.addAll(
                List.of(
                        "--max-batch",
                        "32",
                        "--delivery-guarantee",
                        "EXACTLY_ONCE",
                        "--checkpoint-interval-ms",
                        "1000"));
        return args.toArray(String[]::new);
    }

    private static void produce(Topics topics, String... flags) {
        List<String> args = new ArrayList<>(List.of("produce"));
        args.addAll(topics.flags());
        args.addAll(List.of(flags));
        assertThat(Cli.execute(args.toArray(String[]::new))).as("produce exit code").isZero();
    }

    /**
     * {@code consume --from-beginning --count N --drain-ms 3000 --output DIR}: the directory. The
     * drain reads on for three checkpoint intervals after N, so that a duplicate committed late is
     * in DIR too.
     */
    private static Path consume(Topics topics, int count, String name) {
        Path out = work.resolve(name);
        List<String> args = new ArrayList<>(List.of("consume"));
        args.addAll(topics.flags());
        args.addAll(
                List.of(
                        "--from-beginning",
                        "--count",
                        String.valueOf(count),
                        "--idle-s",
                        "180",
                        "--drain-ms",
                        "3000",
                        "--output",
                        out.toString()));
        assertThat(Cli.execute(args.toArray(String[]::new)))
                .as("consume exit code (1: fewer than %d outcomes)", count)
                .isZero();
        return out;
    }

    private static void assertEveryIdOnce(Path out, String prefix, int rows) throws Exception {
        List<String> ids = Files.readAllLines(out.resolve("ids.txt"));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            expected.add(prefix + i);
        }
        assertThat(ids).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expected);
    }

    /**
     * Request id (null for an undecodable record) to dead-letter code, from consume's
     * failures.jsonl.
     */
    private static Map<String, String> failureCodes(Path out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, String> codes = new HashMap<>();
        for (String line : Files.readAllLines(out.resolve("failures.jsonl"))) {
            JsonNode failure = json.readTree(line);
            String id = failure.get("id").isNull() ? null : failure.get("id").asText();
            assertThat(codes.put(id, failure.get("failure").get("code").asText()))
                    .as("second outcome of %s", id)
                    .isNull();
        }
        return codes;
    }

    /** {@code rows} samples of the model's input as np.save writes them. */
    private static Path writeSamples(Path file, int rows) throws Exception {
        ByteBuffer data =
                ByteBuffer.allocate(rows * FEATURES * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int row = 0; row < rows; row++) {
            for (int k = 0; k < FEATURES; k++) {
                data.putFloat((float) Math.sin(row * 0.37 + k));
            }
        }
        byte[] header = Npy.header(DataType.FLOAT32, new long[] {rows, FEATURES});
        byte[] bytes = new byte[header.length + data.capacity()];
        System.arraycopy(header, 0, bytes, 0, header.length);
        System.arraycopy(data.array(), 0, bytes, header.length, data.capacity());
        return Files.write(file, bytes);
    }

    private static InferenceRequest sample(Path npy, int row, String id) throws Exception {
        try (TensorFile x = TensorFile.npy("x", npy)) {
            return new InferenceRequest(id, Map.of(), List.of(x.row(row)), null, null);
        }
    }

    private static long checkpoints(String job) throws Exception {
        return cluster.completedCheckpoints(job);
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(String what, int seconds, Check check) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not after " + seconds + " s");
            }
            Thread.sleep(500);
        }
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static void report(String format, Object... args) {
        System.out.printf("cluster: " + format + "%n", args);
    }
}
