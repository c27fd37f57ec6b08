package io.flinktrt.tools.cli;

import io.flinktrt.jobs.kafka.EmbeddedKafka;
import io.flinktrt.jobs.sql.SqlScriptOptions;
import io.flinktrt.jobs.sql.SqlScriptRunner;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** A SQL script on a local Flink, against the embedded Kafka or --bootstrap-servers. */
@Command(
        name = "sql",
        mixinStandardHelpOptions = true,
        description = {
            "Run a SQL script locally: CREATE TABLE/MODEL, SET, INSERT and SELECT statements, in order,"
                    + " on a Flink in this JVM, with an embedded Kafka unless --bootstrap-servers is given.",
            "$${bootstrap_servers} in the script is the Kafka to use and $${home} the flink-tensorrt folder;"
                    + " --var NAME=VALUE defines more. Queries print their rows. INSERT jobs still running when"
                    + " the script ends are cancelled, unless --keep-running. With the embedded Kafka, every 'topic'"
                    + " named in the script is created first. Example: examples/sql/ml-predict.sql."
        })
public final class SqlCommand implements Callable<Integer> {

    private static final Pattern TOPIC_OPTION = Pattern.compile("'topic'\\s*=\\s*'([^']+)'");

    @Mixin SqlScriptOptions script;

    @Option(
            names = "--bootstrap-servers",
            description = "Kafka brokers, host:port[,...]; default: an embedded Kafka.")
    String bootstrapServers;

    @Option(
            names = "--parallelism",
            defaultValue = "1",
            description = "Default parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(
            names = "--keep-running",
            description =
                    "Wait for the INSERT jobs to end (Ctrl-C stops) instead of"
                            + " cancelling them when the script is done.")
    boolean keepRunning;

    @Override
    public Integer call() throws Exception {
        EmbeddedKafka embedded = null;
        try {
            String servers = bootstrapServers;
            if (servers == null) {
                System.out.println("Starting an embedded Kafka (KRaft, single node) ...");
                embedded = EmbeddedKafka.start();
                servers = embedded.bootstrapServers();
            }
            System.out.println("Kafka: " + servers);
            List<String> statements =
                    script.statements(
                            Map.of(
                                    "bootstrap_servers",
                                    servers,
                                    "home",
                                    System.getProperty("flinktrt.home", ".")));
            if (embedded
                    != null) { // a fresh broker: the script's tables need their topics to read from
                List<String> topics = topics(statements);
                EmbeddedKafka.createTopics(embedded.clientProperties(), parallelism, topics);
                System.out.println("Topics created: " + topics);
            }
            Configuration config = new Configuration();
            config.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
            TableEnvironment tables =
                    TableEnvironment.create(
                            EnvironmentSettings.newInstance()
                                    .inStreamingMode()
                                    .withConfiguration(config)
                                    .build());
            List<JobClient> jobs = new SqlScriptRunner(tables, System.out).run(statements);
            for (JobClient job : jobs) {
                if (keepRunning) {
                    System.out.println("Waiting for job " + job.getJobID() + " (Ctrl-C stops) ...");
                    job.getJobExecutionResult().get();
                } else if (running(job)) {
                    System.out.println("Script done; cancelling job " + job.getJobID());
                    job.cancel().get(60, TimeUnit.SECONDS);
                }
            }
            return 0;
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    /**
     * Locally each job has a Flink of its own, shut down when the job ends: then there is no status
     * to ask.
     */
    private static boolean running(JobClient job) {
        try {
            return !job.getJobStatus().get().isGloballyTerminalState();
        } catch (IllegalStateException | InterruptedException | ExecutionException e) {
            return false;
        }
    }

    static List<String> topics(List<String> statements) {
        return statements.stream()
                .flatMap(
                        statement ->
                                TOPIC_OPTION
                                        .matcher(statement)
                                        .results()
                                        .map(match -> match.group(1)))
                .distinct()
                .toList();
    }
}
