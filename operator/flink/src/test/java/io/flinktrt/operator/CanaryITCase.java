package io.flinktrt.operator;

import io.flinktrt.backend.Backends;
import io.flinktrt.repository.ModelRepository;
import io.flinktrt.repository.ModelVersion;
import io.flinktrt.repository.RepositoryVersions;
import io.flinktrt.repository.ServingTarget;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A canary through the operator, two subtasks: with version 1 pinned and version 2 as a 30% canary
 * in serving.properties, each request is answered by the version its id hashes to (the same rule on
 * every subtask), as ONNX Runtime run directly on that version's file answers it, and each
 * version's own metrics count the records it answered.
 */
class CanaryITCase {

    /** Retains metrics after the job ends, to read each version's after the bounded job. */
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.withReporter(2, REPORTER);

    private static final int REQUESTS = 1000;

    @Test
    void eachRequestIsAnsweredByTheVersionItsIdHashesTo(@TempDir Path repository) throws Exception {
        RepositoryVersions.addMlpVersion(repository, "mlp", 1);
        RepositoryVersions.addMlpVersion(repository, "mlp", 2);
        RepositoryVersions.writePolicy(
                repository, "mlp", "version=1\ncanary.version=2\ncanary.fraction=0.3\n");
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        RandomRequests random =
                new RandomRequests(
                        Backends.describe(Backends.AUTO, TestModels.path(TestModels.MLP)), 100, 5);
        Map<String, InferenceRequest> sent = new HashMap<>();
        List<RequestRecord> records = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            InferenceRequest request = random.next("c" + i);
            sent.put(request.getId(), request);
            records.add(RequestRecord.of(codec.encode(request)));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        List<InferenceResult> results = new ArrayList<>();
        CloseableIterator<InferenceOutcome> outcomes =
                InferenceFunction.builder()
                        .setModelRepository(repository.toString(), "mlp")
                        .setBackend("onnxruntime")
                        .setMaxBatchSize(16)
                        .setMaxDelay(Duration.ofMillis(5))
                        .build()
                        .applyTo(env.fromData(records, RequestRecordTypeInfo.INSTANCE).rebalance())
                        .collectAsync();
        JobClient job = env.executeAsync("canary");
        outcomes.forEachRemaining(outcome -> results.add((InferenceResult) outcome.getOutcome()));
        job.getJobExecutionResult().get();

        assertThat(results).hasSize(REQUESTS);
        ModelVersion one = new ModelRepository(repository).versions("mlp").get(0);
        ModelVersion two = new ModelRepository(repository).versions("mlp").get(1);
        ServingTarget canary = new ServingTarget(one, two, 0.3);
        long onCanary = 0;
        for (InferenceResult result : results) {
            long expected = canary.routesToCanary(result.getId()) ? 2 : 1;
            assertThat(result.getModelVersion()).as(result.getId()).isEqualTo(expected);
            onCanary += expected == 2 ? 1 : 0;
        }
        assertThat(onCanary).as("the canary's share of 1,000 ids").isBetween(240L, 360L);
        assertThat(answeredBy(job.getJobID(), 2))
                .as("version 2's inference_count")
                .isEqualTo(onCanary);
        assertThat(answeredBy(job.getJobID(), 1))
                .as("version 1's inference_count")
                .isEqualTo(REQUESTS - onCanary);
        RepositoryVersions.assertAnswers(repository, "mlp", results, sent::get, 1e-5f);
    }

    /** inference.version.N.inference_count of the job, over both subtasks. */
    private static long answeredBy(JobID job, long version) {
        String suffix = ".inference.version." + version + ".inference_count";
        List<Long> counts = new ArrayList<>();
        REPORTER.getMetricsByGroup()
                .forEach(
                        (group, metrics) -> {
                            Metric count = metrics.get("inference_count");
                            if (count != null
                                    && job.toString()
                                            .equals(group.getAllVariables().get("<job_id>"))
                                    && group.getMetricIdentifier("inference_count")
                                            .endsWith(suffix)) {
                                counts.add(((Counter) count).getCount());
                            }
                        });
        assertThat(counts).as("%s on each subtask", suffix).hasSize(2);
        return counts.stream().mapToLong(Long::longValue).sum();
    }
}
