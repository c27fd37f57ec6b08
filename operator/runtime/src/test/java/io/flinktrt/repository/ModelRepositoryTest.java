package io.flinktrt.repository;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelRepositoryTest {

    @TempDir Path root;

    private ModelRepository repository() {
        return new ModelRepository(root);
    }

    private void version(String name, String directory, String file) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name).resolve(directory));
        Files.write(dir.resolve(file), new byte[] {1});
    }

    @Test
    void versionsAreNumberedDirectoriesWithAModelFileInNumericOrder() throws IOException {
        version("mlp", "2", ModelRepository.ONNX_FILE);
        version("mlp", "10", ModelRepository.PLAN_FILE);
        version("mlp", "1", ModelRepository.ONNX_FILE);
        version("mlp", ".3-incoming", ModelRepository.ONNX_FILE);
        version("mlp", "4", "notes.txt");
        Files.createDirectories(root.resolve("mlp/5"));

        assertThat(repository().versions("mlp"))
                .extracting(ModelVersion::version)
                .containsExactly(1L, 2L, 10L);
        assertThat(repository().resolve("mlp", ServingPolicy.LATEST).primary().version())
                .isEqualTo(10);
        assertThat(repository().resolve("mlp", ServingPolicy.pinned(2)).primary().version())
                .isEqualTo(2);
    }

    @Test
    void aPlanIsTriedBeforeItsOnnxFileUnlessOnnxRuntimeIsAskedFor() throws IOException {
        version("mlp", "1", ModelRepository.ONNX_FILE);
        version("mlp", "1", ModelRepository.PLAN_FILE);
        ModelVersion one = repository().versions("mlp").get(0);

        assertThat(one.files("auto"))
                .extracting(p -> p.getFileName().toString())
                .containsExactly("model.plan", "model.onnx");
        assertThat(one.files("onnxruntime"))
                .extracting(p -> p.getFileName().toString())
                .containsExactly("model.onnx");
    }

    @Test
    void theEntrysPolicyFileOverridesTheSubmittedPolicy() throws IOException {
        version("mlp", "1", ModelRepository.ONNX_FILE);
        version("mlp", "2", ModelRepository.ONNX_FILE);
        version("mlp", "3", ModelRepository.ONNX_FILE);
        Files.writeString(
                root.resolve("mlp/serving.properties"),
                "version=1\ncanary.version=3\ncanary.fraction=0.25\n");

        ServingTarget target = repository().resolve("mlp", ServingPolicy.pinned(2));

        assertThat(target.primary().version()).isEqualTo(1);
        assertThat(target.canary().version()).isEqualTo(3);
        assertThat(target.canaryFraction()).isEqualTo(0.25);
    }

    @Test
    void mistakesAreNamed() throws IOException {
        assertThatThrownBy(() -> repository().versions("mlp"))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("no model 'mlp' in repository");
        assertThatThrownBy(() -> new ModelRepository(root.resolve("missing")).versions("mlp"))
                .hasMessageContaining("does not exist");
        Files.createDirectories(root.resolve("mlp"));
        assertThatThrownBy(() -> repository().resolve("mlp", ServingPolicy.LATEST))
                .hasMessageContaining("holds no version yet");
        version("mlp", "1", ModelRepository.ONNX_FILE);
        assertThatThrownBy(() -> repository().resolve("mlp", ServingPolicy.pinned(7)))
                .hasMessageContaining("version 7 (pinned) is not in")
                .hasMessageContaining("[1]");
        Files.writeString(root.resolve("mlp/serving.properties"), "version=newest\n");
        assertThatThrownBy(() -> repository().resolve("mlp", ServingPolicy.LATEST))
                .hasMessageContaining("serving.properties")
                .hasMessageContaining("'latest' or a version number, not 'newest'");
        Files.writeString(root.resolve("mlp/serving.properties"), "canary.version=1\n");
        assertThatThrownBy(() -> repository().resolve("mlp", ServingPolicy.LATEST))
                .hasMessageContaining("canary.version needs canary.fraction");
        Files.writeString(root.resolve("mlp/serving.properties"), "versoin=1\n");
        assertThatThrownBy(() -> repository().resolve("mlp", ServingPolicy.LATEST))
                .hasMessageContaining("unknown key 'versoin'");
    }

    @Test
    void theCanaryTakesItsFractionOfIdsTheSameWayEveryTime() {
        ModelVersion one = new ModelVersion("mlp", 1, root);
        ModelVersion two = new ModelVersion("mlp", 2, root);
        ServingTarget tenth = new ServingTarget(one, two, 0.1);

        long canaries =
                IntStream.range(0, 100_000)
                        .filter(i -> tenth.routesToCanary("request-" + i))
                        .count();

        assertThat(canaries).isBetween(9_500L, 10_500L);
        assertThat(
                        IntStream.range(0, 1000)
                                .allMatch(
                                        i ->
                                                tenth.routesToCanary("r" + i)
                                                        == tenth.routesToCanary("r" + i)))
                .isTrue();
        assertThat(tenth.routesToCanary(null)).isFalse();
        assertThat(new ServingTarget(one, null, 0).routesToCanary("request-1")).isFalse();
    }
}
