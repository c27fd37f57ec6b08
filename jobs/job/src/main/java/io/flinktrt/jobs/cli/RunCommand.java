package io.flinktrt.jobs.cli;

import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** Submits the job to the Flink environment it runs in (`flink run ... run --model ...`). */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        defaultValueProvider = InferenceDefaults.class,
        resourceBundle = "io.flinktrt.jobs.cli.BackendOptionsHelp",
        description =
                "Run the Kafka -> inference -> Kafka job on the Flink cluster this is submitted to"
                        + " (flink run -d -p 2 jobs/job/target/flink-tensorrt-job.jar --bootstrap-servers ... --model ...).")
@Internal
public final class RunCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin public InferenceCliOptions inference;

    @Mixin KafkaCliOptions kafka;

    @Mixin DeliveryCliOptions delivery;

    @Option(
            names = "--job-name",
            defaultValue = "flink-tensorrt",
            description = "Default: ${DEFAULT-VALUE}.")
    String jobName;

    /**
     * Flink's own option, given in the wrong place: say where it goes instead of "Unknown option".
     */
    @Option(
            names = {"--parallelism", "-p"},
            hidden = true)
    String misplacedParallelism;

    @Override
    public Integer call() throws Exception {
        if (misplacedParallelism != null) {
            throw new ParameterException(
                    spec.commandLine(),
                    "The parallelism is Flink's option and goes before the jar: flink run -d -p "
                            + misplacedParallelism
                            + " flink-tensorrt-job.jar --bootstrap-servers ...");
        }
        if (kafka.bootstrapServers == null) {
            throw new ParameterException(
                    spec.commandLine(), "--bootstrap-servers is required to run on a cluster.");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // The model lives on the task managers; the client submitting the job need not have it.
        JobFactory.create(
                        inference,
                        kafka,
                        delivery,
                        kafka.bootstrapServers,
                        kafka.clientProperties(),
                        false)
                .addTo(env);
        env.execute(jobName);
        return 0;
    }
}
