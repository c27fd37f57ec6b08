package io.flinktrt.tools.files;

import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.SourcePosition;
import io.flinktrt.schema.Tensor;
import io.flinktrt.schema.Timings;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The exact lines {@code consume --jsonl} and {@code failures.jsonl} hold. */
class OutcomeJsonTest {

    @Test
    void aResultWithEveryOutputsValues() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("camera", "7");
        metadata.put("note", "say \"hi\"\n");
        ByteBuffer probs = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        probs.putFloat(0.25f).putFloat(Float.NaN).putFloat(-3e-8f).flip();
        ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        half.putShort((short) 0x3c00).putShort((short) 0xc000).flip(); // 1.0, -2.0
        ByteBuffer labels = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        labels.putLong(-1).putLong(1L << 40).flip();
        ByteBuffer flags = ByteBuffer.wrap(new byte[] {1, 0});
        ByteBuffer pixels = ByteBuffer.wrap(new byte[] {(byte) 255, -128});
        InferenceResult result =
                InferenceResult.newBuilder()
                        .setId("req-1")
                        .setMetadata(metadata)
                        .setOutputs(
                                List.of(
                                        tensor("probs", DataType.FLOAT32, List.of(1L, 3L), probs),
                                        tensor("half", DataType.FLOAT16, List.of(2L), half),
                                        tensor("labels", DataType.INT64, List.of(2L), labels),
                                        tensor("flags", DataType.BOOL, List.of(2L), flags),
                                        tensor("u", DataType.UINT8, List.of(2L), pixels),
                                        tensor("s", DataType.INT8, List.of(2L), pixels)))
                        .setModel("m")
                        .setEngineChecksum("abc")
                        .setBackend("onnxruntime")
                        .setBatchSize(8)
                        .setTimings(new Timings(10L, 20L, 35L))
                        .build();

        assertThat(OutcomeJson.line(new OutcomeReader.Outcome(result, null, 0)))
                .isEqualTo(
                        "{\"id\":\"req-1\",\"model\":\"m\",\"backend\":\"onnxruntime\",\"batchSize\":8,"
                                + "\"timings\":{\"queueMicros\":10,\"computeMicros\":20,\"totalMicros\":35},"
                                + "\"metadata\":{\"camera\":\"7\",\"note\":\"say \\\"hi\\\"\\n\"},"
                                + "\"outputs\":{"
                                + "\"probs\":{\"dtype\":\"FLOAT32\",\"shape\":[1, 3],\"data\":[0.25, NaN, -3.0E-8]},"
                                + "\"half\":{\"dtype\":\"FLOAT16\",\"shape\":[2],\"data\":[1.0, -2.0]},"
                                + "\"labels\":{\"dtype\":\"INT64\",\"shape\":[2],\"data\":[-1, 1099511627776]},"
                                + "\"flags\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data\":[true, false]},"
                                + "\"u\":{\"dtype\":\"UINT8\",\"shape\":[2],\"data\":[255, 128]},"
                                + "\"s\":{\"dtype\":\"INT8\",\"shape\":[2],\"data\":[-1, -128]}}}");
    }

    @Test
    void aFailureWithWhereItsRequestWasRead() {
        InferenceFailure failure =
                InferenceFailure.newBuilder()
                        .setId(null)
                        .setCode(ErrorCode.UNDECODABLE)
                        .setMessage("bad \\ byte \u0001")
                        .setModel("m")
                        .setPayload(ByteBuffer.wrap(new byte[3]))
                        .setPayloadSize(3)
                        .setTruncated(true)
                        .setSource(new SourcePosition("requests", 2, 41L))
                        .build();

        assertThat(OutcomeJson.line(new OutcomeReader.Outcome(null, failure, 0)))
                .isEqualTo(
                        "{\"id\":null,\"failure\":{\"code\":\"UNDECODABLE\","
                                + "\"message\":\"bad \\\\ byte \\u0001\",\"model\":\"m\","
                                + "\"payloadSize\":3,\"truncated\":true,"
                                + "\"source\":{\"topic\":\"requests\",\"partition\":2,\"offset\":41}}}");
    }

    @Test
    void aFailureWithoutSource() {
        InferenceFailure failure =
                InferenceFailure.newBuilder()
                        .setId("req-2")
                        .setCode(ErrorCode.TIMEOUT)
                        .setMessage("late")
                        .setModel("m")
                        .setPayload(ByteBuffer.allocate(0))
                        .build();

        assertThat(OutcomeJson.line(new OutcomeReader.Outcome(null, failure, 0)))
                .isEqualTo(
                        "{\"id\":\"req-2\",\"failure\":{\"code\":\"TIMEOUT\",\"message\":\"late\","
                                + "\"model\":\"m\",\"payloadSize\":-1,\"truncated\":false,\"source\":null}}");
    }

    private static Tensor tensor(String name, DataType dtype, List<Long> shape, ByteBuffer data) {
        return new Tensor(name, dtype, shape, data);
    }
}
