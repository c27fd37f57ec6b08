package io.flinktrt.image;

import io.flinktrt.schema.ErrorCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The test photos committed under models/images/ (made by models/images/generate.py). */
public final class TestImages {

    /** Each bad image and the code it must fail with. */
    public static final Map<String, ErrorCode> BAD =
            Map.of(
                    "truncated.jpg", ErrorCode.INVALID_IMAGE,
                    "corrupt.jpg", ErrorCode.INVALID_IMAGE,
                    "cmyk.jpg", ErrorCode.UNSUPPORTED_IMAGE,
                    "gray16.png", ErrorCode.UNSUPPORTED_IMAGE,
                    "not-an-image.jpg", ErrorCode.UNSUPPORTED_IMAGE,
                    "bomb.jpg", ErrorCode.IMAGE_TOO_LARGE);

    /** The photo sets: 32 at 224 x 224, then 4 at 1920 x 1080. */
    public static final List<String> PHOTOS = photos();

    private TestImages() {}

    private static List<String> photos() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            names.add(String.format("photo-224-%02d.jpg", i));
        }
        for (int i = 0; i < 4; i++) {
            names.add("photo-1080p-" + i + ".jpg");
        }
        return List.copyOf(names);
    }

    public static Path path(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path image = dir.resolve("models").resolve("images").resolve(name);
            if (Files.isRegularFile(image)) {
                return image;
            }
        }
        throw new IllegalStateException(
                "models/images/" + name + " not found above " + Path.of("").toAbsolutePath());
    }

    public static byte[] bytes(String name) throws IOException {
        return Files.readAllBytes(path(name));
    }

    public static ByteBuffer buffer(String name) throws IOException {
        return ByteBuffer.wrap(bytes(name));
    }
}
