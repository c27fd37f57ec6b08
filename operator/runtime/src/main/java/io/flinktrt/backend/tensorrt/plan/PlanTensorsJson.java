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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
                List<ShapeRange> ranges =
                        tensors.profiles().stream()
                                .map(
                                        b ->
                                                new ShapeRange(
                                                        input.batchShape(b.min()),
                                                        input.batchShape(b.opt()),
                                                        input.batchShape(b.max())))
                                .toList();
                entries.add(entry(input, INPUT, ranges));
            }
            for (TensorSpec output : tensors.outputs()) {
                entries.add(entry(output, OUTPUT, List.of()));
            }
            out.writeObject(entries);
        }

        private static Map<String, Object> entry(
                TensorSpec tensor, String mode, List<ShapeRange> profiles) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", tensor.name());
            entry.put("mode", mode);
            entry.put("dtype", tensor.dtype().name());
            entry.put("shape", tensor.batchShape(-1));
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
                if (INPUT.equals(entry.path("mode").asText())) {
                    if (Arrays.stream(sample).anyMatch(d -> d < 0) && !profiles.isEmpty()) {
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
                                                                (int) r.max()[0]))
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
            return new PlanTensors(inputs, outputs, batchRanges == null ? List.of() : batchRanges);
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
