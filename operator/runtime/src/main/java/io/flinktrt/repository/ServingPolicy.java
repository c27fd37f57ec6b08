package io.flinktrt.repository;

import org.apache.flink.annotation.PublicEvolving;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Which versions of a repository model serve: the latest or a pinned one, and optionally a canary
 * version taking a fraction of the records (chosen by a stable hash of the record's id). In an
 * entry's {@code serving.properties}:
 *
 * <pre>
 * version=latest          # or a number: pin it (rolling back is pinning an older one)
 * canary.version=3        # optional
 * canary.fraction=0.1     # of the records, by id
 * </pre>
 *
 * @param pinnedVersion the version to serve; {@link ServedModel#NO_VERSION} for the latest
 * @param canaryVersion the canary's version; {@link ServedModel#NO_VERSION} for none
 */
@PublicEvolving
public record ServingPolicy(long pinnedVersion, long canaryVersion, double canaryFraction)
        implements Serializable {

    public static final ServingPolicy LATEST = new ServingPolicy(ServedModel.NO_VERSION, 0, 0);

    public ServingPolicy {
        if (pinnedVersion < 0 || canaryVersion < 0) {
            throw new IllegalArgumentException("versions are positive numbers");
        }
        if (canaryVersion != ServedModel.NO_VERSION
                && !(canaryFraction > 0 && canaryFraction < 1)) {
            throw new IllegalArgumentException(
                    "canary.fraction must be above 0 and below 1, not " + canaryFraction);
        }
    }

    public static ServingPolicy pinned(long version) {
        return new ServingPolicy(version, 0, 0);
    }

    /** A policy from a submitted version: {@code latest} or a version number to pin. */
    public static ServingPolicy ofVersion(String version) {
        String trimmed = version.trim();
        return "latest".equals(trimmed) ? LATEST : pinned(number("version", trimmed));
    }

    static ServingPolicy parse(Properties properties) {
        for (String key : properties.stringPropertyNames()) {
            if (!List.of("version", "canary.version", "canary.fraction").contains(key)) {
                throw new IllegalArgumentException(
                        "unknown key '"
                                + key
                                + "' (keys: version, canary.version, canary.fraction)");
            }
        }
        String version = properties.getProperty("version", "latest").trim();
        long pinned =
                "latest".equals(version) ? ServedModel.NO_VERSION : number("version", version);
        String canary = properties.getProperty("canary.version");
        if (canary == null) {
            return new ServingPolicy(pinned, 0, 0);
        }
        String fraction = properties.getProperty("canary.fraction");
        if (fraction == null) {
            throw new IllegalArgumentException("canary.version needs canary.fraction");
        }
        try {
            return new ServingPolicy(
                    pinned, number("canary.version", canary.trim()), Double.parseDouble(fraction));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("canary.fraction is not a number: " + fraction);
        }
    }

    private static long number(String key, String value) {
        try {
            long number = Long.parseLong(value);
            if (number > 0) {
                return number;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(
                key + " must be 'latest' or a version number, not '" + value + "'");
    }

    /** The versions this policy picks from {@code versions} (oldest first) of the entry. */
    ServingTarget resolve(List<ModelVersion> versions, Path entry) throws IOException {
        if (versions.isEmpty()) {
            throw new IOException(
                    entry
                            + " holds no version yet: a directory named by a number with "
                            + ModelRepository.ONNX_FILE
                            + " or "
                            + ModelRepository.PLAN_FILE);
        }
        ModelVersion primary =
                pinnedVersion == ServedModel.NO_VERSION
                        ? versions.get(versions.size() - 1)
                        : find(versions, pinnedVersion, "pinned", entry);
        if (canaryVersion == ServedModel.NO_VERSION || canaryVersion == primary.version()) {
            return new ServingTarget(primary, null, 0);
        }
        return new ServingTarget(
                primary, find(versions, canaryVersion, "the canary", entry), canaryFraction);
    }

    private static ModelVersion find(
            List<ModelVersion> versions, long version, String role, Path entry) throws IOException {
        for (ModelVersion candidate : versions) {
            if (candidate.version() == version) {
                return candidate;
            }
        }
        throw new IOException(
                "version "
                        + version
                        + " ("
                        + role
                        + ") is not in "
                        + entry
                        + ": it has "
                        + versions.stream().map(ModelVersion::version).toList());
    }
}
