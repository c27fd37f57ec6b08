package io.flinktrt.jobs;

import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.testing.TestModels;

import org.apache.flink.connector.base.DeliveryGuarantee;

import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The Kafka client settings the job gives its source and sink, with and without the user's own. */
class InferenceJobKafkaSettingsTest {

    /** A ResNet-50 request (3x224x224 float32) as Avro. */
    private static final int IMAGE_REQUEST_BYTES = 602_208;

    private static InferenceJob job(Properties user, DeliveryGuarantee guarantee) {
        return InferenceJob.builder()
                .setBootstrapServers("localhost:9092")
                .setKafkaProperties(user)
                .setDeliveryGuarantee(guarantee)
                .setInference(
                        InferenceFunction.builder()
                                .setModel(TestModels.path(TestModels.MLP).toString()))
                .build();
    }

    @Test
    void consumerFetchesManyImageRequestsPerPartitionAndAutotunesItsSocket() {
        Properties consumer =
                job(new Properties(), DeliveryGuarantee.AT_LEAST_ONCE).consumerProperties();
        // The Kafka default (1 MB) returns a single 600 KB record per partition per fetch.
        assertThat(Integer.parseInt(consumer.getProperty("max.partition.fetch.bytes")))
                .isGreaterThanOrEqualTo(32 * IMAGE_REQUEST_BYTES);
        assertThat(Integer.parseInt(consumer.getProperty("fetch.max.bytes")))
                .isGreaterThanOrEqualTo(
                        Integer.parseInt(consumer.getProperty("max.partition.fetch.bytes")));
        assertThat(consumer.getProperty("receive.buffer.bytes")).isEqualTo("-1");
    }

    @Test
    void sinkSendsAtOnceAndCanCarryADeadLetterAsLargeAsAFetchedRequest() {
        InferenceJob job = job(new Properties(), DeliveryGuarantee.AT_LEAST_ONCE);
        Properties producer = job.producerProperties();
        assertThat(producer.getProperty("linger.ms")).isEqualTo("0");
        assertThat(Integer.parseInt(producer.getProperty("max.request.size")))
                .isGreaterThan(
                        Integer.parseInt(
                                job.consumerProperties().getProperty("max.partition.fetch.bytes")));
        assertThat(producer.getProperty("transaction.timeout.ms")).isNull();
        assertThat(
                        job(new Properties(), DeliveryGuarantee.EXACTLY_ONCE)
                                .producerProperties()
                                .getProperty("transaction.timeout.ms"))
                .isEqualTo(String.valueOf(InferenceJob.DEFAULT_TRANSACTION_TIMEOUT.toMillis()));
    }

    @Test
    void userSettingsWin() {
        Properties user = new Properties();
        user.setProperty("max.partition.fetch.bytes", "1048576");
        user.setProperty("receive.buffer.bytes", "65536");
        user.setProperty("linger.ms", "20");
        user.setProperty("max.request.size", "1048576");
        InferenceJob job = job(user, DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(job.consumerProperties())
                .containsEntry("max.partition.fetch.bytes", "1048576")
                .containsEntry("receive.buffer.bytes", "65536");
        assertThat(job.producerProperties())
                .containsEntry("linger.ms", "20")
                .containsEntry("max.request.size", "1048576");
    }
}
