package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.gpu.TrtTypes;
import io.flinktrt.backend.tensorrt.plan.PlanTensors.BatchRange;
import io.flinktrt.schema.DataType;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link PlanTensors} as the metadata's {@code tensors} list: one entry per tensor with its mode,
 * type, full shape (batch first, -1) and, for an input, its shapes per profile. Plans built before
 * {@link PlanTensors} existed wrote the same layout, with the engine's shapes as TensorRT reported
 * them: -1 in a sample dimension that a profile fixes, and an output's batch as profile 0's.
 */
final class PlanTensorsJson {

    private static final String INPUT = "INPUT";
    private static final String OUTPUT = "OUTPUT";

    private PlanTensorsJson() {}

    static final class Writer extends JsonSerializer<PlanTensors> {
        @Override
        public void serialize(PlanTensors tensors, JsonGenerator out, SerializerProvider provider)
                throws IOException {
            List<Map<String, Object>> entries = new ArrayList<>();
            for (TensorSpec input : tensors.inputs()) {
                boolean sequence = tensors.sequenceTensors().contains(input.name());
                List<ShapeRange> ranges =
                        tensors.profiles().stream()
                                .map(
                                        b ->
                                                new ShapeRange(
                                                        shape(
                                                                input,
                                                                b.min(),
                                                                sequence,
                                                                b.minLength()),
                                                        shape(
                                                                input,
                                                                b.opt(),
                                                                sequence,
                                                                b.maxLength()),
                                                        shape(
                                                                input,
                                                                b.max(),
                                                                sequence,
                                                                b.maxLength())))
                                .toList();
                entries.add(entry(input, INPUT, ranges, sequence));
            }
            for (TensorSpec output : tensors.outputs()) {
                entries.add(
                        entry(
                                output,
                                OUTPUT,
                                List.of(),
                                tensors.sequenceTensors().contains(output.name())));
            }
            out.writeObject(entries);
        }

        /** A batch shape; a sequence tensor's at {@code length}. */
        private static long[] shape(TensorSpec tensor, int rows, boolean sequence, int length) {
            long[] shape = tensor.batchShape(rows);
            if (sequence) {
                shape[1] = length;
            }
            return shape;
        }

        private static Map<String, Object> entry(
                TensorSpec tensor, String mode, List<ShapeRange> profiles, boolean sequence) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", tensor.name());
            entry.put("mode", mode);
            entry.put("dtype", tensor.dtype().name());
            entry.put("shape", shape(tensor, -1, sequence, -1));
            entry.put("profiles", profiles);
            return entry;
        }
    }

    static final class Reader extends JsonDeserializer<PlanTensors> {
        @Override
        public PlanTensors deserialize(JsonParser in, DeserializationContext context)
                throws IOException {
            List<TensorSpec> inputs = new ArrayList<>();
            List<TensorSpec> outputs = new ArrayList<>();
            List<BatchRange> batchRanges = null;
            Set<String> sequenceTensors = new HashSet<>();
            JsonNode entries = in.readValueAsTree();
            for (JsonNode entry : entries) {
                String name = entry.path("name").asText();
                long[] shape = in.getCodec().treeToValue(entry.path("shape"), long[].class);
                List<ShapeRange> profiles =
                        Arrays.asList(
                                in.getCodec()
                                        .treeToValue(entry.path("profiles"), ShapeRange[].class));
                if (shape.length == 0) {
                    throw JsonMappingException.from(
                            in,
                            "Tensor "
                                    + name
                                    + " is a scalar; the first dimension of"
                                    + " every input and output must be the batch.");
                }
                long[] sample = Arrays.copyOfRange(shape, 1, shape.length);
                boolean sequence = isSequence(shape, profiles);
                if (sequence) {
                    sequenceTensors.add(name);
                }
                if (INPUT.equals(entry.path("mode").asText())) {
                    if (sequence) { // at the longest length any profile takes
                        sample[0] = profiles.stream().mapToLong(r -> r.max()[1]).max().orElse(-1);
                        long[] fixed = profiles.get(0).max();
                        for (int d = 1; d < sample.length; d++) {
                            sample[d] = fixed[d + 1];
                        }
                    } else if (Arrays.stream(sample).anyMatch(d -> d < 0) && !profiles.isEmpty()) {
                        long[] max =
                                profiles.get(0)
                                        .max(); // the engine left it dynamic, the profiles fix it
                        sample = Arrays.copyOfRange(max, 1, max.length);
                    }
                    inputs.add(
                            new TensorSpec(
                                    name,
                                    wireType(in, name, entry.path("dtype").asText()),
                                    sample));
                    if (batchRanges == null) { // every input has the same batch range in a profile
                        batchRanges =
                                profiles.stream()
                                        .map(
                                                r ->
                                                        new BatchRange(
                                                                (int) r.min()[0],
                                                                (int) r.opt()[0],
                                                                (int) r.max()[0],
                                                                sequence ? (int) r.min()[1] : 0,
                                                                sequence ? (int) r.max()[1] : 0))
                                        .toList();
                    }
                } else {
                    outputs.add(
                            new TensorSpec(
                                    name,
                                    wireType(in, name, entry.path("dtype").asText()),
                                    sample));
                }
            }
            if (!sequenceTensors.isEmpty()
                    && inputs.stream().noneMatch(i -> sequenceTensors.contains(i.name()))) {
                sequenceTensors
                        .clear(); // outputs alone vary: a context infers them, no axis of ours
            }
            return new PlanTensors(
                    inputs,
                    outputs,
                    batchRanges == null ? List.of() : batchRanges,
                    sequenceTensors);
        }

        /**
         * Whether the dimension after the batch varies: -1 in the shape and, for an input, not
         * fixed by every profile alike.
         */
        private static boolean isSequence(long[] shape, List<ShapeRange> profiles) {
            if (shape.length < 2 || shape[1] >= 0) {
                return false;
            }
            return profiles.isEmpty()
                    || profiles.stream().anyMatch(r -> r.min()[1] != r.max()[1])
                    || profiles.stream().mapToLong(r -> r.max()[1]).distinct().count() > 1;
        }

        private static DataType wireType(JsonParser in, String tensor, String dtype)
                throws JsonMappingException {
            try {
                return DataType.valueOf(dtype);
            } catch (IllegalArgumentException e) {
                throw JsonMappingException.from(
                        in, TrtTypes.notOnTheWire(tensor, dtype).getMessage());
            }
        }
    }
}
