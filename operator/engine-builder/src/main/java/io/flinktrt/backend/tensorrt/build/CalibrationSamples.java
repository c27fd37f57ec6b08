package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;

import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * INT8 calibration data: samples per input, each exactly one sample's bytes (little-endian, C
 * order, the input's type). Read from either
 *
 * <ul>
 *   <li>an Avro file ({@code .avro}) of {@link InferenceRequest} records, one sample per request,
 *       or
 *   <li>a folder of raw tensor files ({@code *.raw} or {@code *.bin}, sorted by name, each holding
 *       one or more whole samples): directly in the folder for a one-input model, in a subfolder
 *       named after each input otherwise.
 * </ul>
 */
final class CalibrationSamples {

    private final Map<String, List<byte[]>> samples;

    private CalibrationSamples(Map<String, List<byte[]>> samples) {
        this.samples = samples;
    }

    /**
     * @param sampleBytes bytes of one sample per input, in the network's input order
     */
    static CalibrationSamples read(Path source, Map<String, Integer> sampleBytes)
            throws IOException {
        Map<String, List<byte[]>> samples =
                Files.isDirectory(source)
                        ? readRawFolder(source, sampleBytes)
                        : readAvro(source, sampleBytes);
        int count = -1;
        for (Map.Entry<String, List<byte[]>> input : samples.entrySet()) {
            if (input.getValue().isEmpty()) {
                throw new IOException(
                        "Calibration data "
                                + source
                                + " has no samples for input "
                                + input.getKey());
            }
            if (count >= 0 && input.getValue().size() != count) {
                throw new IOException(
                        "Calibration data "
                                + source
                                + " has "
                                + count
                                + " samples for one input and "
                                + input.getValue().size()
                                + " for "
                                + input.getKey()
                                + "; every input needs the same number.");
            }
            count = input.getValue().size();
        }
        return new CalibrationSamples(samples);
    }

    int count() {
        return samples.values().iterator().next().size();
    }

    byte[] sample(String input, int index) {
        return samples.get(input).get(index);
    }

    private static Map<String, List<byte[]>> readRawFolder(
            Path folder, Map<String, Integer> sampleBytes) throws IOException {
        Map<String, List<byte[]>> samples = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> input : sampleBytes.entrySet()) {
            Path dir = sampleBytes.size() == 1 ? folder : folder.resolve(input.getKey());
            if (!Files.isDirectory(dir)) {
                throw new IOException(
                        "Calibration folder "
                                + folder
                                + " needs a subfolder "
                                + input.getKey()
                                + " (the model has several inputs: "
                                + sampleBytes.keySet()
                                + ")");
            }
            List<byte[]> list = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.filter(CalibrationSamples::isRawTensor).sorted().toList()) {
                    byte[] bytes = Files.readAllBytes(file);
                    int size = input.getValue();
                    if (bytes.length == 0 || bytes.length % size != 0) {
                        throw new IOException(
                                file
                                        + " is "
                                        + bytes.length
                                        + " bytes, not a whole number of "
                                        + input.getKey()
                                        + " samples of "
                                        + size
                                        + " bytes");
                    }
                    for (int at = 0; at < bytes.length; at += size) {
                        list.add(Arrays.copyOfRange(bytes, at, at + size));
                    }
                }
            }
            samples.put(input.getKey(), list);
        }
        return samples;
    }

    private static boolean isRawTensor(Path file) {
        String name = file.getFileName().toString();
        return Files.isRegularFile(file) && (name.endsWith(".raw") || name.endsWith(".bin"));
    }

    private static Map<String, List<byte[]>> readAvro(Path file, Map<String, Integer> sampleBytes)
            throws IOException {
        Map<String, List<byte[]>> samples = new LinkedHashMap<>();
        sampleBytes.keySet().forEach(name -> samples.put(name, new ArrayList<>()));
        try (DataFileReader<InferenceRequest> reader =
                new DataFileReader<>(
                        file.toFile(), new SpecificDatumReader<>(InferenceRequest.class))) {
            for (InferenceRequest request : reader) {
                for (Tensor tensor : request.getTensors()) {
                    Integer size = sampleBytes.get(tensor.getName());
                    if (size == null) {
                        continue;
                    }
                    ByteBuffer data = tensor.getData();
                    if (data.remaining() != size) {
                        throw new IOException(
                                "Request "
                                        + request.getId()
                                        + " in "
                                        + file
                                        + ": tensor "
                                        + tensor.getName()
                                        + " has "
                                        + data.remaining()
                                        + " bytes, one sample is "
                                        + size);
                    }
                    byte[] bytes = new byte[size];
                    data.duplicate().get(bytes);
                    samples.get(tensor.getName()).add(bytes);
                }
            }
        }
        return samples;
    }
}
