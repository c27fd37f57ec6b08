package io.flinktrt.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster of {@code scripts/cluster.sh}, driven as a user drives it: a Flink 2.2.1 JobManager
 * and two TaskManagers, and a Kafka broker, each its own JVM; jobs go in through Flink's CLI, state
 * comes back from Flink's REST API.
 */
final class ClusterHarness implements AutoCloseable {

    /** The repository's root: this module is jobs/e2e-tests, Maven runs the tests in it. */
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent().getParent();

    static final Path JOB_JAR = ROOT.resolve("jobs/job/target/flink-tensorrt-job.jar");
    private static final Path SCRIPT = ROOT.resolve("scripts/cluster.sh");
    private static final Pattern SUBMITTED =
            Pattern.compile("Job has been submitted with JobID ([0-9a-f]{32})");
    private static final Pattern SAVEPOINT = Pattern.compile("Savepoint completed\\. Path: (\\S+)");

    private final Path home;
    private final Properties env = new Properties();
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    private ClusterHarness(Path home) throws IOException {
        this.home = home;
        try (var in = Files.newBufferedReader(home.resolve("cluster.env"))) {
            env.load(in);
        }
    }

    /** Starts the cluster in {@code home} ({@code scripts/cluster.sh up}) with no topics yet. */
    static ClusterHarness up(Path home) throws Exception {
        script(home, Duration.ofMinutes(5), "up");
        return new ClusterHarness(home);
    }

    String bootstrapServers() {
        return env.getProperty("BOOTSTRAP_SERVERS");
    }

    Path home() {
        return home;
    }

    /** {@code flink run -d -p <parallelism> flink-tensorrt-job.jar <args>}: the job's id. */
    String submit(int parallelism, List<String> flinkOptions, String... jobArgs) throws Exception {
        List<String> args =
                new ArrayList<>(List.of("run", "-d", "-p", String.valueOf(parallelism)));
        args.addAll(flinkOptions);
        args.add(JOB_JAR.toString());
        args.addAll(List.of(jobArgs));
        String out = flink(args.toArray(String[]::new));
        Matcher m = SUBMITTED.matcher(out);
        if (!m.find()) {
            throw new AssertionError("no job id in the output of flink run:\n" + out);
        }
        return m.group(1);
    }

    /** {@code flink stop --savepointPath <dir> <job>}: the savepoint's path. */
    String stopWithSavepoint(String job) throws Exception {
        String out =
                flink(
                        "stop",
                        "--savepointPath",
                        home.resolve("savepoints").toUri().toString(),
                        job);
        Matcher m = SAVEPOINT.matcher(out);
        if (!m.find()) {
            throw new AssertionError("no savepoint path in the output of flink stop:\n" + out);
        }
        return m.group(1);
    }

    void cancel(String job) throws Exception {
        flink("cancel", job);
    }

    /** Flink's CLI ({@code scripts/cluster.sh flink ...}); fails on a non-zero exit. */
    String flink(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("flink"));
        command.addAll(List.of(args));
        return script(home, Duration.ofMinutes(3), command.toArray(String[]::new));
    }

    /** The result of a command that may fail: exit code and output. */
    Result flinkMayFail(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("flink"));
        command.addAll(List.of(args));
        return run(home, Duration.ofMinutes(3), command.toArray(String[]::new));
    }

    void killTaskManager(int n) throws Exception {
        script(home, Duration.ofMinutes(1), "kill-taskmanager", String.valueOf(n));
    }

    void startTaskManager(int n) throws Exception {
        script(home, Duration.ofMinutes(1), "start-taskmanager", String.valueOf(n));
    }

    /** SIGKILL of the broker: a crash, with no controlled shutdown. */
    void killKafka() throws Exception {
        script(home, Duration.ofMinutes(1), "kill-kafka");
    }

    void startKafka() throws Exception {
        script(home, Duration.ofMinutes(2), "start-kafka");
    }

    JsonNode rest(String path) throws Exception {
        HttpResponse<String> response =
                http.send(
                        HttpRequest.newBuilder(URI.create(env.getProperty("REST_URL") + path))
                                .timeout(Duration.ofSeconds(20))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(
                    "GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return json.readTree(response.body());
    }

    String jobState(String job) throws Exception {
        return rest("/jobs/" + job).get("state").asText();
    }

    /**
     * The resource ids of the TaskManagers that run a subtask of the job's vertex whose name
     * contains {@code vertex}.
     */
    Set<String> taskManagersOf(String job, String vertex) throws Exception {
        Set<String> ids = new TreeSet<>();
        for (JsonNode v : rest("/jobs/" + job).get("vertices")) {
            if (v.get("name").asText().contains(vertex)) {
                for (JsonNode tm :
                        rest("/jobs/" + job + "/vertices/" + v.get("id").asText() + "/taskmanagers")
                                .get("taskmanagers")) {
                    ids.add(tm.get("taskmanager-id").asText());
                }
            }
        }
        return ids;
    }

    /** Completed checkpoints of the job so far. */
    long completedCheckpoints(String job) throws Exception {
        return rest("/jobs/" + job + "/checkpoints").get("counts").get("completed").asLong();
    }

    /**
     * Failures the job went through (and recovered from, while it runs): its exception history's
     * length.
     */
    int failures(String job) throws Exception {
        return rest("/jobs/" + job + "/exceptions").get("exceptionHistory").get("entries").size();
    }

    /** Lines of the TaskManagers' logs that contain {@code text}. */
    List<String> taskManagerLogLines(String text) throws IOException {
        List<String> lines = new ArrayList<>();
        try (var logs = Files.newDirectoryStream(home.resolve("flink/log"), "taskmanager-*.log")) {
            for (Path log : logs) {
                Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.contains(text))
                        .forEach(lines::add);
            }
        }
        return lines;
    }

    /**
     * The files of TaskManager {@code n}'s memory map whose name contains {@code library} (Linux
     * /proc).
     */
    Set<String> mappedFiles(int n, String library) throws IOException {
        String pid = Files.readString(home.resolve("taskmanager-" + n + ".pid")).trim();
        Set<String> files = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc", pid, "maps"))) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 6 && fields[5].contains(library)) {
                files.add(fields[5]);
            }
        }
        return files;
    }

    @Override
    public void close() throws Exception {
        script(home, Duration.ofMinutes(2), "down");
    }

    record Result(int exitCode, String output) {}

    private static String script(Path home, Duration timeout, String... args) throws Exception {
        Result result = run(home, timeout, args);
        if (result.exitCode() != 0) {
            throw new AssertionError(
                    "scripts/cluster.sh "
                            + String.join(" ", args)
                            + " exited with "
                            + result.exitCode()
                            + ":\n"
                            + result.output());
        }
        return result.output();
    }

    private static Result run(Path home, Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(args));
        Path output = Files.createTempFile("cluster-sh", ".out");
        try {
            ProcessBuilder builder =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(output.toFile());
            builder.environment().put("CLUSTER_HOME", home.toString());
            builder.environment().put("TOPICS", "");
            Process process = builder.start();
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(
                        "scripts/cluster.sh "
                                + String.join(" ", args)
                                + " still running after "
                                + timeout
                                + ":\n"
                                + Files.readString(output));
            }
            return new Result(process.exitValue(), Files.readString(output));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
