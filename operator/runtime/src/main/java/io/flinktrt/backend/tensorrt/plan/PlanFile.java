package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelFiles;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A plan's bytes with its metadata, read and verified (size, SHA-256) before anything is
 * deserialized.
 */
@Internal
public record PlanFile(Path path, byte[] bytes, String sha256, PlanMetadata metadata) {

    /** The plan's build-engine metadata (its sidecar), without reading the plan itself. */
    public static PlanMetadata readMetadata(Path plan) throws BackendException {
        Path sidecar = PlanMetadata.sidecarOf(plan);
        if (!Files.isRegularFile(sidecar)) {
            throw new BackendException(
                    "Plan "
                            + plan
                            + " has no metadata file "
                            + sidecar.getFileName()
                            + ", so it cannot be checked before loading. "
                            + PlanCompatibility.REBUILD);
        }
        try {
            return PlanMetadata.read(sidecar);
        } catch (IOException e) {
            throw new BackendException(
                    "Metadata "
                            + sidecar
                            + " is unreadable ("
                            + e.getMessage()
                            + "). "
                            + PlanCompatibility.REBUILD,
                    e);
        }
    }

    public static PlanFile read(Path plan) throws BackendException {
        PlanMetadata metadata = readMetadata(plan);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(plan);
        } catch (IOException e) {
            throw new BackendException("Plan " + plan + " is unreadable: " + e, e);
        }
        if (bytes.length != metadata.planBytes()) {
            throw new BackendException(
                    "Plan "
                            + plan
                            + " is "
                            + bytes.length
                            + " bytes, its metadata says "
                            + metadata.planBytes()
                            + (bytes.length < metadata.planBytes() ? " (truncated)" : "")
                            + ". "
                            + PlanCompatibility.REBUILD);
        }
        String sha256 = ModelFiles.sha256(bytes);
        if (!sha256.equals(metadata.planSha256())) {
            throw new BackendException(
                    "Plan "
                            + plan
                            + " has SHA-256 "
                            + sha256
                            + ", its metadata says "
                            + metadata.planSha256()
                            + " (corrupt, or replaced without its metadata). "
                            + PlanCompatibility.REBUILD);
        }
        return new PlanFile(plan, bytes, sha256, metadata);
    }
}
