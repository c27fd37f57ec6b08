package io.flinktrt.repository;

import org.apache.flink.annotation.Internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One version directory of a {@link ModelRepository} entry: {@code <root>/<name>/<version>/}. */
@Internal
public record ModelVersion(String name, long version, Path directory) {

    public ServedModel served() {
        return new ServedModel(name, version);
    }

    /**
     * The version's model files a backend may open, in the order to try them: a TensorRT plan first
     * (unless ONNX Runtime is asked for: it runs ONNX only), then the ONNX file (TensorRT builds it
     * through the plan cache).
     */
    public List<Path> files(String backend) {
        List<Path> files = new ArrayList<>(2);
        Path plan = directory.resolve(ModelRepository.PLAN_FILE);
        if (!"onnxruntime".equals(backend) && Files.isRegularFile(plan)) {
            files.add(plan);
        }
        Path onnx = directory.resolve(ModelRepository.ONNX_FILE);
        if (Files.isRegularFile(onnx)) {
            files.add(onnx);
        }
        return files;
    }

    boolean hasModelFile() {
        return Files.isRegularFile(directory.resolve(ModelRepository.ONNX_FILE))
                || Files.isRegularFile(directory.resolve(ModelRepository.PLAN_FILE));
    }

    @Override
    public String toString() {
        return served() + " (" + directory + ")";
    }
}
