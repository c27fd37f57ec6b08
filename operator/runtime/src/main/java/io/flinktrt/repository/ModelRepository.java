package io.flinktrt.repository;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;

/**
 * Models as versions, in Triton's layout so that one folder serves both: {@code
 * <root>/<name>/<version>/model.onnx} and/or {@code model.plan} (with its {@code model.plan.json}),
 * the version a positive number. A version counts once its directory holds a model file; write it
 * under another name (a dot first: {@code .3-incoming}) and rename it when complete, as the rename
 * is atomic and a half-copied file is not. An entry may hold {@value #POLICY_FILE} ({@link
 * ServingPolicy}), read again on every poll: that is how a running job is pinned, rolled back or
 * given a canary.
 */
@Internal
public final class ModelRepository {

    public static final String ONNX_FILE = "model.onnx";
    public static final String PLAN_FILE = "model.plan";
    public static final String POLICY_FILE = "serving.properties";

    private final Path root;

    public ModelRepository(Path root) {
        this.root = root;
    }

    public Path entry(String name) {
        return root.resolve(name);
    }

    /** The entry's versions that hold a model file, oldest first. */
    public List<ModelVersion> versions(String name) throws IOException {
        Path entry = entry(name);
        if (!Files.isDirectory(entry)) {
            throw new NoSuchFileException(
                    entry.toString(),
                    null,
                    Files.isDirectory(root)
                            ? "no model '"
                                    + name
                                    + "' in repository "
                                    + root
                                    + " (it has "
                                    + names()
                                    + ")"
                            : "the model repository " + root + " does not exist");
        }
        List<ModelVersion> versions = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(entry, Files::isDirectory)) {
            for (Path child : children) {
                long version = parseVersion(child.getFileName().toString());
                ModelVersion candidate = new ModelVersion(name, version, child);
                if (version > 0 && candidate.hasModelFile()) {
                    versions.add(candidate);
                }
            }
        }
        versions.sort(Comparator.comparingLong(ModelVersion::version));
        return versions;
    }

    /** The entry's {@value #POLICY_FILE} if it has one, else {@code submitted}. */
    public ServingPolicy policy(String name, ServingPolicy submitted) throws IOException {
        Path file = entry(name).resolve(POLICY_FILE);
        if (!Files.isRegularFile(file)) {
            return submitted;
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        }
        try {
            return ServingPolicy.parse(properties);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The versions {@code policy} asks for, from what the entry holds now. */
    public ServingTarget resolve(String name, ServingPolicy submitted) throws IOException {
        List<ModelVersion> versions = versions(name);
        ServingPolicy policy = policy(name, submitted);
        return policy.resolve(versions, entry(name));
    }

    private List<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(root, Files::isDirectory)) {
            children.forEach(child -> names.add(child.getFileName().toString()));
        }
        names.sort(null);
        return names;
    }

    /** A version directory's number; -1 for any other name (a dot first, letters). */
    private static long parseVersion(String directoryName) {
        if (directoryName.isEmpty() || !directoryName.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        try {
            return Long.parseLong(directoryName);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
