package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The sequence lengths a plan's profiles give. */
class PlanTensorsTest {

    private static final List<TensorSpec> IDS =
            List.of(new TensorSpec("input_ids", DataType.INT64, new long[] {128}));
    private static final List<TensorSpec> LOGITS =
            List.of(new TensorSpec("logits", DataType.FLOAT32, new long[] {2}));

    @Test
    void aPlanBuiltByLengthRunsAtEachProfilesLongestLength() {
        // as build-engine --batch-buckets 8,32 --sequence-lengths 16,128 makes them
        PlanTensors tensors =
                new PlanTensors(
                        IDS,
                        LOGITS,
                        List.of(
                                new PlanTensors.BatchRange(1, 8, 8, 1, 16),
                                new PlanTensors.BatchRange(1, 8, 8, 17, 128),
                                new PlanTensors.BatchRange(9, 32, 32, 1, 16),
                                new PlanTensors.BatchRange(9, 32, 32, 17, 128)),
                        Set.of("input_ids"));
        assertThat(tensors.sequenceLengths()).containsExactly(16, 128);
    }

    @Test
    void aPlanOfFixedShapesHasNoSequenceLengths() {
        PlanTensors tensors =
                new PlanTensors(IDS, LOGITS, List.of(new PlanTensors.BatchRange(1, 8, 32)));
        assertThat(tensors.sequenceLengths()).isEmpty();
    }
}
