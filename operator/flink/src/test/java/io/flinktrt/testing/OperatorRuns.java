package io.flinktrt.testing;

import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceResult;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Requests through the inference operator in the test's MiniCluster, outcomes by request id. */
public final class OperatorRuns {

    private OperatorRuns() {}

    public static Map<String, InferenceOutcome> outcomesById(
            List<RequestRecord> records,
            InferenceFunction<RequestRecord, InferenceOutcome> function)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        Map<String, InferenceOutcome> outcomes = new HashMap<>();
        function.applyTo(env.fromData(records))
                .executeAndCollect()
                .forEachRemaining(
                        outcome -> {
                            String id =
                                    outcome.getOutcome() instanceof InferenceResult r
                                            ? r.getId()
                                            : ((InferenceFailure) outcome.getOutcome()).getId();
                            outcomes.put(id, outcome);
                        });
        return outcomes;
    }
}
