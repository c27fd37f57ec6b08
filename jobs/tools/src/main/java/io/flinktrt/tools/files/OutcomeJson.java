package io.flinktrt.tools.files;

import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.SourcePosition;
import io.flinktrt.schema.Tensor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One outcome as one line of JSON: a result with its outputs' full values, or a failure with its
 * code, message and where its request was read (the payload is left out; its size is given).
 */
public final class OutcomeJson {

    /**
     * Compact, but ", " between array elements as the console prints them; NaN and Infinity bare
     * (as Python's json reads them), not as strings.
     */
    private static final ObjectWriter WRITER =
            JsonMapper.builder()
                    .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
                    .build()
                    .writer(
                            new MinimalPrettyPrinter() {
                                @Override
                                public void writeArrayValueSeparator(JsonGenerator g)
                                        throws IOException {
                                    g.writeRaw(", ");
                                }
                            });

    private record ResultLine(
            String id,
            String model,
            String backend,
            int batchSize,
            TimingsLine timings,
            Map<String, String> metadata,
            Map<String, OutputLine> outputs,
            // left out where a result has none (a model given as a file; tensors, not answers)
            @JsonInclude(JsonInclude.Include.NON_NULL) Long modelVersion,
            @JsonInclude(JsonInclude.Include.NON_NULL) List<Float> embedding,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Float> labels,
            @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean truncated) {}

    private record TimingsLine(long queueMicros, long computeMicros, long totalMicros) {}

    private record OutputLine(String dtype, List<Long> shape, List<Object> data) {}

    private record FailureLine(String id, FailureFields failure) {}

    private record FailureFields(
            String code,
            String message,
            String model,
            long payloadSize,
            boolean truncated,
            SourceLine source) {}

    private record SourceLine(String topic, int partition, long offset) {}

    private OutcomeJson() {}

    public static String line(OutcomeReader.Outcome outcome) {
        try {
            return WRITER.writeValueAsString(
                    outcome.result() != null
                            ? result(outcome.result())
                            : failure(outcome.id(), outcome.failure()));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ResultLine result(InferenceResult result) {
        Map<String, OutputLine> outputs = new LinkedHashMap<>();
        for (Tensor output : result.getOutputs()) {
            outputs.put(
                    output.getName(),
                    new OutputLine(
                            output.getDtype().name(),
                            output.getShape(),
                            TensorValues.values(output, -1)));
        }
        return new ResultLine(
                result.getId(),
                result.getModel(),
                result.getBackend(),
                result.getBatchSize(),
                new TimingsLine(
                        result.getTimings().getQueueMicros(),
                        result.getTimings().getComputeMicros(),
                        result.getTimings().getTotalMicros()),
                result.getMetadata(),
                outputs,
                result.getModelVersion(),
                result.getEmbedding(),
                labels(result),
                result.getTruncated());
    }

    /** The top-k labels and their scores, most probable first. */
    private static Map<String, Float> labels(InferenceResult result) {
        Map<String, Float> labels = new LinkedHashMap<>();
        result.getLabels().forEach(label -> labels.put(label.getLabel(), label.getScore()));
        return labels;
    }

    private static FailureLine failure(String id, InferenceFailure failure) {
        SourcePosition source = failure.getSource();
        return new FailureLine(
                id,
                new FailureFields(
                        failure.getCode().name(),
                        failure.getMessage(),
                        failure.getModel(),
                        failure.getPayloadSize(),
                        failure.getTruncated(),
                        source == null
                                ? null
                                : new SourceLine(
                                        source.getTopic(),
                                        source.getPartition(),
                                        source.getOffset())));
    }
}
