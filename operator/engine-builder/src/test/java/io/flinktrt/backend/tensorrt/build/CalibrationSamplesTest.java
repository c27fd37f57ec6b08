package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;

import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CalibrationSamplesTest {

    @TempDir Path dir;

    @Test
    void readsRawTensorFilesOfSeveralSamples() throws IOException {
        Files.write(dir.resolve("0.raw"), bytes(3 * 8, 1)); // three samples of 8 bytes
        Files.write(dir.resolve("1.bin"), bytes(8, 2));
        Files.writeString(dir.resolve("README.txt"), "ignored");
        CalibrationSamples samples = CalibrationSamples.read(dir, Map.of("x", 8));
        assertThat(samples.count()).isEqualTo(4);
        assertThat(samples.sample("x", 3)).isEqualTo(bytes(8, 2));

        Files.write(dir.resolve("2.raw"), bytes(5, 3));
        assertThatThrownBy(() -> CalibrationSamples.read(dir, Map.of("x", 8)))
                .hasMessageContaining("not a whole number of x samples of 8 bytes");
    }

    @Test
    void severalInputsNeedOneSubfolderEach() throws IOException {
        Map<String, Integer> inputs = new LinkedHashMap<>();
        inputs.put("ids", 16);
        inputs.put("mask", 16);
        assertThatThrownBy(() -> CalibrationSamples.read(dir, inputs))
                .hasMessageContaining("needs a subfolder ids");
        Files.createDirectories(dir.resolve("ids"));
        Files.createDirectories(dir.resolve("mask"));
        Files.write(dir.resolve("ids/a.raw"), bytes(32, 1));
        Files.write(dir.resolve("mask/a.raw"), bytes(16, 2));
        assertThatThrownBy(() -> CalibrationSamples.read(dir, inputs))
                .hasMessageContaining("every input needs the same");
        Files.write(dir.resolve("mask/b.raw"), bytes(16, 3));
        assertThat(CalibrationSamples.read(dir, inputs).count()).isEqualTo(2);
    }

    @Test
    void readsAnAvroFileOfRequests() throws IOException {
        Path avro = dir.resolve("requests.avro");
        try (DataFileWriter<InferenceRequest> writer =
                new DataFileWriter<>(new SpecificDatumWriter<>(InferenceRequest.class))) {
            writer.create(InferenceRequest.getClassSchema(), avro.toFile());
            for (int i = 0; i < 5; i++) {
                writer.append(
                        InferenceRequest.newBuilder()
                                .setId("r" + i)
                                .setTensors(
                                        List.of(
                                                Tensor.newBuilder()
                                                        .setName("x")
                                                        .setDtype(DataType.FLOAT32)
                                                        .setShape(List.of(2L))
                                                        .setData(ByteBuffer.wrap(bytes(8, i)))
                                                        .build()))
                                .build());
            }
        }
        CalibrationSamples samples = CalibrationSamples.read(avro, Map.of("x", 8));
        assertThat(samples.count()).isEqualTo(5);
        assertThat(samples.sample("x", 4)).isEqualTo(bytes(8, 4));
        assertThatThrownBy(() -> CalibrationSamples.read(avro, Map.of("x", 16)))
                .hasMessageContaining("tensor x has 8 bytes, one sample is 16");
    }

    private static byte[] bytes(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
