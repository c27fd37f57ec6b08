package io.flinktrt.text;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes the example's text model pair, models/text/tokenizer.json and
 * models/text/text_encoder.onnx, with {@link TextModels} (no Python onnx here). Run once from the
 * repository root, as models/text/README.md shows; ExampleTextModelsTest checks that the committed
 * files are what this writes.
 */
public final class ExampleTextModels {

    private ExampleTextModels() {}

    public static void main(String[] args) throws IOException {
        write(Path.of(args.length > 0 ? args[0] : "models/text"));
    }

    /** The tokenizer and encoder in {@code dir}, under the names the example uses. */
    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        TextModels.writeTokenizer(dir);
        Files.move(
                TextModels.writeEncoder(dir),
                dir.resolve("text_encoder.onnx"),
                StandardCopyOption.REPLACE_EXISTING);
    }
}
