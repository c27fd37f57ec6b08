package io.flinktrt.sql;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;
import io.flinktrt.testing.OnnxReference;
import io.flinktrt.testing.TestModels;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Rows to tensors and back through a real ONNX Runtime runner (two_in_two_out: a, b FLOAT32 [N,8]
 * -> mix FLOAT32 [N,4], distance FLOAT32 [N,1]), each column form, compared with ONNX Runtime run
 * directly.
 */
class RowTensorCodecTest {

    private static final Path MODEL = TestModels.path(TestModels.TWO_IN_TWO_OUT);

    private static RowTensorCodec codec(
            ResolvedSchema input, ResolvedSchema output, boolean rejectNonFinite) {
        return new RowTensorCodec(
                ModelBinding.of(
                        input,
                        output,
                        PlannedSignature.read(Backends.AUTO, MODEL, java.util.List.of()),
                        "error",
                        ErrorHandlingStrategy.EMIT),
                rejectNonFinite);
    }

    private static float[] sample(int seed) {
        float[] values = new float[8];
        for (int i = 0; i < 8; i++) {
            values[i] = (seed * 8 + i) / 10f - 1.5f;
        }
        return values;
    }

    private static byte[] littleEndian(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return bytes.array();
    }

    @Test
    void bytesAndArrayInputsGiveArrayScalarAndBytesOutputsAsOnnxRuntimeDoes() throws Exception {
        // a as raw little-endian BYTES, b as ARRAY<FLOAT>; mix back as BYTES, distance as a scalar
        RowTensorCodec codec =
                codec(
                        ResolvedSchema.of(
                                Column.physical("a", DataTypes.BYTES()),
                                Column.physical("b", DataTypes.ARRAY(DataTypes.FLOAT()))),
                        ResolvedSchema.of(
                                Column.physical("error", DataTypes.STRING()),
                                Column.physical("distance", DataTypes.FLOAT()),
                                Column.physical("mix", DataTypes.BYTES())),
                        false);
        int rows = 3;
        try (ModelRunner runner =
                        new OnnxRuntimeBackend().open(new ModelConfig(MODEL, 0, 8, 1, Map.of()));
                OnnxReference reference = new OnnxReference(MODEL)) {
            BatchBuffers buffers = runner.acquire();
            try {
                for (int row = 0; row < rows; row++) {
                    codec.putRow(
                            codec.prepare(
                                    GenericRowData.of(
                                            littleEndian(sample(row)),
                                            new GenericArrayData(sample(row + 10)))),
                            buffers,
                            row);
                }
                buffers.run(rows).get();
                for (int row = 0; row < rows; row++) {
                    RowData out = codec.readRow(null, buffers, row, null);
                    Map<String, float[]> expected =
                            reference.run(
                                    InferenceRequest.newBuilder()
                                            .setId("r")
                                            .setMetadata(Map.of())
                                            .setTensors(
                                                    List.of(
                                                            tensor("a", sample(row)),
                                                            tensor("b", sample(row + 10))))
                                            .build());
                    assertThat(out.isNullAt(0)).as("error column of a good row").isTrue();
                    assertThat(out.getFloat(1))
                            .isCloseTo(expected.get("distance")[0], within(1e-6f));
                    float[] mix = new float[4];
                    ByteBuffer.wrap(out.getBinary(2))
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .asFloatBuffer()
                            .get(mix);
                    assertThat(mix).containsExactly(expected.get("mix"), within(1e-6f));
                }
            } finally {
                buffers.release();
            }
        }
    }

    private static Tensor tensor(String name, float[] values) {
        return Tensor.newBuilder()
                .setName(name)
                .setDtype(DataType.FLOAT32)
                .setShape(List.of(1L, 8L))
                .setData(ByteBuffer.wrap(littleEndian(values)))
                .build();
    }

    @Test
    void badRowsSayWhichColumnAndWhy() {
        RowTensorCodec codec =
                codec(
                        ResolvedSchema.of(
                                Column.physical("a", DataTypes.BYTES()),
                                Column.physical("b", DataTypes.ARRAY(DataTypes.FLOAT()))),
                        ResolvedSchema.of(
                                Column.physical("distance", DataTypes.FLOAT()),
                                Column.physical("error", DataTypes.STRING())),
                        true);
        GenericArrayData goodB = new GenericArrayData(sample(1));
        assertThatThrownBy(() -> codec.prepare(GenericRowData.of(new byte[31], goodB)))
                .isInstanceOf(BadRowException.class)
                .hasMessage(
                        "INPUT column 'a' has 31 bytes; tensor 'a' (a:FLOAT32[N, 8]) takes 32 per row");
        float[] nan = sample(2);
        nan[5] = Float.NaN;
        assertThatThrownBy(() -> codec.prepare(GenericRowData.of(littleEndian(nan), goodB)))
                .hasMessageStartingWith("INPUT column 'a' holds NaN or Inf at element 5");
        assertThatThrownBy(
                        () ->
                                codec.prepare(
                                        GenericRowData.of(
                                                littleEndian(sample(3)),
                                                new GenericArrayData(
                                                        new Float[] {
                                                            1f, 2f, 3f, 4f, 5f, 6f, 7f, null
                                                        }))))
                .hasMessage("INPUT column 'b' has a null at element 7");
        assertThatThrownBy(
                        () ->
                                codec.prepare(
                                        GenericRowData.of(
                                                littleEndian(sample(3)),
                                                new GenericArrayData(
                                                        new float[] {
                                                            1f,
                                                            Float.POSITIVE_INFINITY,
                                                            3f,
                                                            4f,
                                                            5f,
                                                            6f,
                                                            7f,
                                                            8f
                                                        }))))
                .hasMessageStartingWith("INPUT column 'b' holds NaN or Inf at element 1");
        assertThatThrownBy(() -> codec.prepare(GenericRowData.of(null, goodB)))
                .hasMessage("INPUT column 'a' is null");

        RowData failed = codec.failedRow("why");
        assertThat(failed.isNullAt(0)).isTrue();
        assertThat(failed.getString(1).toString()).isEqualTo("why");
    }
}
