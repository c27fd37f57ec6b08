package io.flinktrt.tools.local;

import io.flinktrt.repository.ModelRepository;
import io.flinktrt.repository.ModelVersion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Ships a model version into a running local job the way docs/operations.md tells users to: its
 * files copied next to the model's versions under a name that is not a number, then renamed to the
 * next version number. The report then tells what the stream saw around it.
 *
 * @param entry the model's directory in the repository
 * @param source a directory with model.onnx and/or model.plan (+ model.plan.json)
 * @param afterNanos how long after the first request the version is dropped in
 */
public record SwapRehearsal(Path entry, Path source, long afterNanos) {

    /** Copies the version in and renames it; returns its number. */
    long ship() throws IOException {
        List<ModelVersion> versions =
                new ModelRepository(entry.getParent()).versions(entry.getFileName().toString());
        long next = versions.isEmpty() ? 1 : versions.get(versions.size() - 1).version() + 1;
        Path incoming = entry.resolve("." + next + "-incoming");
        Files.createDirectories(incoming);
        try (Stream<Path> files = Files.list(source)) {
            files.filter(Files::isRegularFile)
                    .forEach(
                            file -> {
                                try {
                                    Files.copy(file, incoming.resolve(file.getFileName()));
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        Files.move(incoming, entry.resolve(Long.toString(next)), StandardCopyOption.ATOMIC_MOVE);
        return next;
    }
}
