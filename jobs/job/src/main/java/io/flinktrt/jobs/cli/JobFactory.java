package io.flinktrt.jobs.cli;

import io.flinktrt.jobs.InferenceJob;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.InferenceFunctionBuilder;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.util.Properties;

/** The job as the command-line flags describe it. */
@Internal
public final class JobFactory {

    private JobFactory() {}

    public static InferenceJob create(
            InferenceCliOptions inference,
            KafkaCliOptions kafka,
            DeliveryCliOptions delivery,
            String servers,
            Properties clientProperties,
            boolean checkModelExists)
            throws IOException {
        InferenceFunctionBuilder function =
                InferenceFunction.builder()
                        .fromConfiguration(inference.toConfiguration())
                        .setCheckModelExists(checkModelExists);
        Configuration job = kafka.toConfiguration(servers);
        delivery.addTo(job);
        return InferenceJob.builder()
                .fromConfiguration(job)
                .setKafkaProperties(clientProperties)
                .setInference(function)
                .build();
    }
}
