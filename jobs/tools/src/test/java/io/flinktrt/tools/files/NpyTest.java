package io.flinktrt.tools.files;

import io.flinktrt.schema.DataType;
import io.flinktrt.schema.Tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Reads files written by numpy 2.4 (src/test/resources/npy: np.save of 3x2 arrays, one per dtype, a
 * version 2.0 file from np.lib.format.write_array, a Fortran-order and a float64 one).
 */
class NpyTest {

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "f4.npy;     FLOAT32; [-1.0, -0.5]; [1.0, 1.5]",
                "f4_v2.npy;  FLOAT32; [-1.0, -0.5]; [1.0, 1.5]",
                "f2.npy;     FLOAT16; [-1.0, -0.5]; [1.0, 1.5]",
                "i4.npy;     INT32;   [-2, -1];     [2, 3]",
                "i8.npy;     INT64;   [-2, -1];     [2, 3]",
                "i1.npy;     INT8;    [-2, -1];     [2, 3]",
                "u1.npy;     UINT8;   [0, 1];       [4, 5]",
                "b1.npy;     BOOL;    [false, true]; [true, true]"
            })
    void readsEachDtypeOneRequestPerRow(
            String file, DataType dtype, String firstRow, String lastRow) throws Exception {
        try (TensorFile tensors = TensorFile.npy("x", fixture(file))) {
            assertThat(tensors.rows()).isEqualTo(3);
            Tensor first = tensors.row(0);
            assertThat(first.getDtype()).isEqualTo(dtype);
            assertThat(first.getShape()).containsExactly(1L, 2L);
            assertThat(TensorValues.text(first, -1)).isEqualTo(firstRow);
            assertThat(TensorValues.text(tensors.row(2), -1)).isEqualTo(lastRow);
        }
    }

    @Test
    void refusesFortranOrderAndUnsupportedDtypesWithAHint() {
        assertThatThrownBy(() -> TensorFile.npy("x", fixture("f4_fortran.npy")))
                .hasMessageContaining("Fortran order")
                .hasMessageContaining("ascontiguousarray");
        assertThatThrownBy(() -> TensorFile.npy("x", fixture("f8.npy")))
                .hasMessageContaining("'<f8'")
                .hasMessageContaining("astype");
    }

    @Test
    void stacksRowsIntoAFileThatReadsBack(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("probs.npy");
        try (NpyStackWriter writer = new NpyStackWriter(file, floats(1, 2, 3))) {
            writer.add(floats(1, 2, 3));
            writer.add(floats(4, 5, 6));
        }
        try (TensorFile back = TensorFile.npy("probs", file)) {
            assertThat(back.rows()).isEqualTo(2);
            assertThat(TensorValues.text(back.row(1), -1)).isEqualTo("[4.0, 5.0, 6.0]");
        }
        assertThat(Files.size(file)).isEqualTo(Npy.WRITTEN_HEADER_BYTES + 2 * 3 * Float.BYTES);
    }

    @Test
    void readsRawSamplesOfAGivenShape(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("x.i64");
        ByteBuffer data = ByteBuffer.allocate(4 * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.putLong(1).putLong(2).putLong(3).putLong(4);
        Files.write(file, data.array());
        try (TensorFile tensors = TensorFile.raw("ids", file, DataType.INT64, new long[] {2})) {
            assertThat(tensors.rows()).isEqualTo(2);
            assertThat(TensorValues.text(tensors.row(1), -1)).isEqualTo("[3, 4]");
        }
        assertThatThrownBy(() -> TensorFile.raw("ids", file, DataType.INT64, new long[] {3}))
                .hasMessageContaining("not a whole number");
    }

    private static Tensor floats(float... values) {
        ByteBuffer data =
                ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        return new Tensor(
                "probs", DataType.FLOAT32, List.of(1L, (long) values.length), data.flip());
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(NpyTest.class.getResource("/npy/" + name).toURI());
    }
}
