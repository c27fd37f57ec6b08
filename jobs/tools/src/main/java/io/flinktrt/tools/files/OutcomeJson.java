package io.flinktrt.tools.files;

import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.SourcePosition;
import io.flinktrt.schema.Tensor;

import java.util.Map;

/**
 * One outcome as one line of JSON: a result with its outputs' full values, or a failure with its
 * code, message and where its request was read (the payload is left out; its size is given).
 */
public final class OutcomeJson {

    private OutcomeJson() {}

    public static String line(OutcomeReader.Outcome outcome) {
        StringBuilder json = new StringBuilder("{\"id\":").append(string(outcome.id()));
        if (outcome.result() != null) {
            InferenceResult result = outcome.result();
            json.append(",\"model\":")
                    .append(string(result.getModel()))
                    .append(",\"backend\":")
                    .append(string(result.getBackend()))
                    .append(",\"batchSize\":")
                    .append(result.getBatchSize())
                    .append(",\"timings\":{\"queueMicros\":")
                    .append(result.getTimings().getQueueMicros())
                    .append(",\"computeMicros\":")
                    .append(result.getTimings().getComputeMicros())
                    .append(",\"totalMicros\":")
                    .append(result.getTimings().getTotalMicros())
                    .append("},\"metadata\":")
                    .append(metadata(result.getMetadata()))
                    .append(",\"outputs\":{");
            String separator = "";
            for (Tensor output : result.getOutputs()) {
                json.append(separator)
                        .append(string(output.getName()))
                        .append(":{\"dtype\":\"")
                        .append(output.getDtype())
                        .append("\",\"shape\":")
                        .append(output.getShape())
                        .append(",\"data\":")
                        .append(TensorValues.text(output, -1))
                        .append('}');
                separator = ",";
            }
            json.append('}');
        } else {
            InferenceFailure failure = outcome.failure();
            json.append(",\"failure\":{\"code\":\"")
                    .append(failure.getCode())
                    .append("\",\"message\":")
                    .append(string(failure.getMessage()))
                    .append(",\"model\":")
                    .append(string(failure.getModel()))
                    .append(",\"payloadSize\":")
                    .append(failure.getPayloadSize())
                    .append(",\"truncated\":")
                    .append(failure.getTruncated())
                    .append(",\"source\":")
                    .append(source(failure.getSource()))
                    .append('}');
        }
        return json.append('}').toString();
    }

    private static String source(SourcePosition source) {
        return source == null
                ? "null"
                : "{\"topic\":"
                        + string(source.getTopic())
                        + ",\"partition\":"
                        + source.getPartition()
                        + ",\"offset\":"
                        + source.getOffset()
                        + "}";
    }

    private static String metadata(Map<String, String> metadata) {
        StringBuilder json = new StringBuilder("{");
        metadata.forEach(
                (k, v) ->
                        json.append(json.length() > 1 ? "," : "")
                                .append(string(k))
                                .append(':')
                                .append(string(v)));
        return json.append('}').toString();
    }

    static String string(CharSequence text) {
        if (text == null) {
            return "null";
        }
        StringBuilder json = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default ->
                        json.append(
                                c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return json.append('"').toString();
    }
}
