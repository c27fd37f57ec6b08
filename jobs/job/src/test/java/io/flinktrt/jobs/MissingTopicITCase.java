package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.testing.MiniClusters;

import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A job whose input topic does not exist is refused when it is built, with the topic's name and how
 * to create it, instead of running and restarting forever on "Failed to get metadata for topics".
 */
@Timeout(120)
class MissingTopicITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    @Test
    void aMissingInputTopicFailsTheSubmissionBeforeAnyJobStarts(
            @InjectClusterClient ClusterClient<?> cluster) throws Exception {
        KAFKA.createTopics(1, "missing-results", "missing-dead-letter");
        InferenceJob job = TestJobs.mlp(KAFKA, "missing");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();

        assertThatThrownBy(() -> job.addTo(env))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(
                        "Topic missing-requests does not exist on the Kafka brokers at "
                                + KAFKA.bootstrapServers())
                .hasMessageContaining(
                        "kafka-topics.sh --bootstrap-server "
                                + KAFKA.bootstrapServers()
                                + " --create --topic missing-requests")
                .hasMessageContaining("scripts/cluster.sh topics missing-requests")
                .hasMessageNotContaining("missing-results");
        assertThat(cluster.listJobs().get()).as("jobs on the cluster").isEmpty();
    }
}
