package io.flinktrt.operator;

import io.flinktrt.backend.Backends;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two models in one job, each its own async operator with its own uid and name, on one slot: every
 * request answered once, by its own model, as ONNX Runtime run directly answers it.
 */
@Timeout(120)
class TwoModelsInOneJobITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(1);

    private static final int REQUESTS = 40;

    @Test
    void eachOperatorRunsItsOwnModelUnderItsOwnUid() throws Exception {
        Path mlp = TestModels.path(TestModels.MLP);
        Path tokens = TestModels.path(TestModels.TOKENS);
        Map<String, InferenceRequest> sent = new HashMap<>();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);

        SingleOutputStreamOperator<InferenceOutcome> mlpOutcomes =
                operator(mlp, "mlp").applyTo(source(env, mlp, "m", sent));
        SingleOutputStreamOperator<InferenceOutcome> tokenOutcomes =
                operator(tokens, "tokens").applyTo(source(env, tokens, "t", sent));
        assertThat(mlpOutcomes.getTransformation().getUid()).isEqualTo("mlp-inference");
        assertThat(mlpOutcomes.getName()).isEqualTo("mlp");
        assertThat(tokenOutcomes.getTransformation().getUid()).isEqualTo("tokens-inference");

        List<InferenceOutcome> outcomes = new ArrayList<>();
        mlpOutcomes.union(tokenOutcomes).executeAndCollect().forEachRemaining(outcomes::add);

        assertThat(outcomes).hasSize(2 * REQUESTS);
        Map<String, OnnxReference> references =
                Map.of(
                        "mlp_classifier",
                        new OnnxReference(mlp),
                        "token_classifier",
                        new OnnxReference(tokens));
        try {
            Map<String, Integer> answered = new HashMap<>();
            for (InferenceOutcome outcome : outcomes) {
                InferenceResult result = (InferenceResult) outcome.getOutcome();
                answered.merge(result.getId(), 1, Integer::sum);
                assertThat(result.getModel())
                        .isEqualTo(
                                result.getId().startsWith("m")
                                        ? "mlp_classifier"
                                        : "token_classifier");
                references
                        .get(result.getModel())
                        .assertAnswers(sent.get(result.getId()), result.getOutputs(), 1e-5f);
            }
            assertThat(answered).hasSize(2 * REQUESTS).allSatisfy((id, n) -> assertThat(n).isOne());
        } finally {
            for (OnnxReference reference : references.values()) {
                reference.close();
            }
        }
    }

    @Test
    void uidAndNameStayInferenceUnlessSet() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Path mlp = TestModels.path(TestModels.MLP);
        SingleOutputStreamOperator<InferenceOutcome> outcomes =
                InferenceFunction.builder()
                        .setModel(mlp.toString())
                        .build()
                        .applyTo(source(env, mlp, "d", new HashMap<>()));
        // savepoints written before the uid could be set keyed the operator's state by it
        assertThat(outcomes.getTransformation().getUid()).isEqualTo("inference");
        assertThat(outcomes.getName()).isEqualTo("inference");
    }

    @Test
    void twoOperatorsUnderTheDefaultUidAreRefusedWhenTheGraphIsBuilt() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Path mlp = TestModels.path(TestModels.MLP);
        for (String prefix : new String[] {"a", "b"}) {
            InferenceFunction.builder()
                    .setModel(mlp.toString())
                    .build()
                    .applyTo(source(env, mlp, prefix, new HashMap<>()))
                    .sinkTo(new DiscardingSink<>());
        }
        assertThatThrownBy(() -> env.getStreamGraph().getJobGraph())
                .hasMessageContaining("Hash collision on user-specified ID \"inference\"");
    }

    private static InferenceFunction<RequestRecord, InferenceOutcome> operator(
            Path model, String name) {
        return InferenceFunction.builder()
                .setModel(model.toString())
                .setBackend("onnxruntime")
                .setMaxBatchSize(8)
                .setMaxDelay(Duration.ofMillis(20))
                .setUid(name + "-inference")
                .setName(name)
                .build();
    }

    private static DataStream<RequestRecord> source(
            StreamExecutionEnvironment env,
            Path model,
            String idPrefix,
            Map<String, InferenceRequest> sent) {
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        RandomRequests random;
        try {
            random = new RandomRequests(Backends.describe(Backends.AUTO, model), 100, 7);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        List<RequestRecord> records = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            InferenceRequest request = random.next(idPrefix + i);
            sent.put(request.getId(), request);
            records.add(RequestRecord.of(codec.encode(request)));
        }
        return env.fromData(records, RequestRecordTypeInfo.INSTANCE);
    }
}
