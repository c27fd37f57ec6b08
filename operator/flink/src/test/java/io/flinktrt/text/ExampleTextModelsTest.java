package io.flinktrt.text;

import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The committed models/text/ files are what {@link ExampleTextModels} writes, byte for byte. */
class ExampleTextModelsTest {

    @Test
    void theCommittedExampleModelsAreWhatTheGeneratorWrites(@TempDir Path dir) throws Exception {
        Path committed = TestModels.path(TestModels.TWO_IN_TWO_OUT).getParent().resolve("text");
        ExampleTextModels.write(dir);
        for (String file : List.of("tokenizer.json", "text_encoder.onnx")) {
            assertThat(Files.readAllBytes(committed.resolve(file)))
                    .as("models/text/" + file + " (regenerate it: models/text/README.md)")
                    .isEqualTo(Files.readAllBytes(dir.resolve(file)));
        }
    }
}
