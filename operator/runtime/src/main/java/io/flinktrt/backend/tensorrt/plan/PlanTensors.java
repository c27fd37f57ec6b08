package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.TensorSpec;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import java.util.List;
import java.util.Set;

/**
 * What an engine takes and gives: its inputs and outputs per sample, as the runners' signature has
 * them, and the batch range of each optimization profile (the first dimension of every input). An
 * output's sample dimension is -1 where the engine leaves it to a context to infer.
 *
 * <p>Written in the plan metadata as its {@code tensors} list, in the layout of the first format.
 */
@PublicEvolving
@JsonSerialize(using = PlanTensorsJson.Writer.class)
@JsonDeserialize(using = PlanTensorsJson.Reader.class)
@Internal
public record PlanTensors(
        List<TensorSpec> inputs,
        List<TensorSpec> outputs,
        List<BatchRange> profiles,
        Set<String> sequenceTensors) {

    /**
     * The batch sizes one optimization profile takes, and the one it is tuned for; for a plan with
     * a sequence axis also the sequence lengths it takes (0 without one).
     */
    public record BatchRange(int min, int opt, int max, int minLength, int maxLength) {

        public BatchRange(int min, int opt, int max) {
            this(min, opt, max, 0, 0);
        }

        @Override
        public String toString() {
            return min
                    + "/"
                    + opt
                    + "/"
                    + max
                    + (maxLength > 0 ? " x length " + minLength + ".." + maxLength : "");
        }
    }

    public PlanTensors {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        profiles = List.copyOf(profiles);
        sequenceTensors = Set.copyOf(sequenceTensors);
    }

    /** A plan whose sample shapes are all fixed. */
    public PlanTensors(
            List<TensorSpec> inputs, List<TensorSpec> outputs, List<BatchRange> profiles) {
        this(inputs, outputs, profiles, Set.of());
    }

    /**
     * The longest length of each profile, ascending: the lengths a batch runs at unless others are
     * configured; empty for a plan without a sequence axis.
     */
    public List<Integer> sequenceLengths() {
        return profiles.stream()
                .map(BatchRange::maxLength)
                .filter(length -> length > 0)
                .distinct()
                .sorted()
                .toList();
    }

    /** The largest batch any profile takes. */
    public int maxBatch() {
        return profiles.stream().mapToInt(BatchRange::max).max().orElse(0);
    }
}
