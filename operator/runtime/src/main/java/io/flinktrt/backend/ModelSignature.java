package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.List;
import java.util.Set;

/**
 * What an opened model takes and gives.
 *
 * @param modelName name reported in results (the file name without extension)
 * @param checksum SHA-256 (hex) of the model or plan file
 * @param maxBatchSize most rows one batch may hold (for TensorRT, the largest profile's max)
 * @param sequence the sequence axis of a model whose inputs vary in length (text), or {@link
 *     SequenceAxis#NONE}; its tensors' sample shapes are those at the longest length
 */
@PublicEvolving
public record ModelSignature(
        String modelName,
        String checksum,
        List<TensorSpec> inputs,
        List<TensorSpec> outputs,
        int maxBatchSize,
        SequenceAxis sequence)
        implements Serializable {

    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** A model whose every sample dimension is fixed. */
    public ModelSignature(
            String modelName,
            String checksum,
            List<TensorSpec> inputs,
            List<TensorSpec> outputs,
            int maxBatchSize) {
        this(modelName, checksum, inputs, outputs, maxBatchSize, SequenceAxis.NONE);
    }

    /**
     * The first sample dimension of {@code tensors} (input_ids [batch, length], hidden states
     * [batch, length, hidden]) varies: each batch runs at the smallest of {@code lengths} that
     * holds its longest row. Buffers keep every row at the longest length (rows are written and
     * read as for a fixed model); the backend computes only the batch's length.
     */
    public record SequenceAxis(List<Integer> lengths, Set<String> tensors) implements Serializable {

        public static final SequenceAxis NONE = new SequenceAxis(List.of(), Set.of());

        public SequenceAxis {
            lengths = List.copyOf(lengths);
            tensors = Set.copyOf(tensors);
            for (int i = 1; i < lengths.size(); i++) {
                if (lengths.get(i) <= lengths.get(i - 1)) {
                    throw new IllegalArgumentException("Sequence lengths must ascend: " + lengths);
                }
            }
        }

        public boolean varies() {
            return !lengths.isEmpty();
        }

        public int longest() {
            return lengths.get(lengths.size() - 1);
        }

        /**
         * The smallest length that holds {@code tokens}: what a batch of that longest row runs at.
         */
        public int bucketFor(int tokens) {
            for (int length : lengths) {
                if (length >= tokens) {
                    return length;
                }
            }
            return longest();
        }

        /** Bytes of one row of {@code spec} at {@code length} (its bytes per position times it). */
        public int rowBytes(TensorSpec spec, int length) {
            return tensors.contains(spec.name())
                    ? spec.sampleBytes() / longest() * length
                    : spec.sampleBytes();
        }

        public boolean has(TensorSpec spec) {
            return tensors.contains(spec.name());
        }

        /** {@code specs} with this axis's tensors at the longest length. */
        public List<TensorSpec> atLongest(List<TensorSpec> specs) {
            if (!varies()) {
                return specs;
            }
            return specs.stream()
                    .map(
                            spec -> {
                                if (!has(spec)) {
                                    return spec;
                                }
                                long[] shape = spec.sampleShape().clone();
                                shape[0] = longest();
                                return new TensorSpec(spec.name(), spec.dtype(), shape);
                            })
                    .toList();
        }
    }

    public int inputIndex(String name) {
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
