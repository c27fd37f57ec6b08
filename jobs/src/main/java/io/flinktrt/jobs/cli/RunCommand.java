package io.flinktrt.jobs.cli;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** Submits the job to the Flink environment it runs in (`flink run ... run --model ...`). */
@Command(name = "run", mixinStandardHelpOptions = true, defaultValueProvider = InferenceDefaults.class,
        resourceBundle = "io.flinktrt.jobs.cli.BackendOptionsHelp",
        description = "Run the Kafka -> inference -> Kafka job on the Flink cluster this is submitted to"
                + " (flink run -c io.flinktrt.jobs.InferenceJobMain flink-tensorrt-jobs-job.jar --model ...).")
public final class RunCommand implements Callable<Integer> {

    @Mixin
    InferenceCliOptions inference;

    @Mixin
    KafkaCliOptions kafka;

    @Mixin
    DeliveryCliOptions delivery;

    @picocli.CommandLine.Option(names = "--job-name", defaultValue = "flink-tensorrt", description = "Default: ${DEFAULT-VALUE}.")
    String jobName;

    @Override
    public Integer call() throws Exception {
        if (kafka.bootstrapServers == null) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--bootstrap-servers is required to run on a cluster.");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // The model lives on the task managers; the client submitting the job need not have it.
        JobFactory.create(inference, kafka, delivery, kafka.bootstrapServers, kafka.clientProperties(), false).addTo(env);
        env.execute(jobName);
        return 0;
    }
}
