package io.flinktrt.repository;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;

/**
 * The versions that should serve now: a primary, and optionally a canary taking {@code
 * canaryFraction} of the records.
 *
 * @param canary null for none
 */
@Internal
public record ServingTarget(ModelVersion primary, ModelVersion canary, double canaryFraction) {

    /**
     * Whether a record with this id goes to the canary: the same id always answers the same way, on
     * every subtask and after every restart (FNV-1a of its UTF-8 bytes, then MurmurHash3's
     * finalizer so that ids alike spread evenly; no id, no canary).
     */
    public boolean routesToCanary(String id) {
        if (canary == null || id == null) {
            return false;
        }
        long hash = 0xcbf29ce484222325L;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        hash ^= hash >>> 33;
        hash *= 0xff51afd7ed558ccdL;
        hash ^= hash >>> 33;
        hash *= 0xc4ceb9fe1a85ec53L;
        hash ^= hash >>> 33;
        double position = (hash >>> 11) * 0x1.0p-53; // uniform in [0, 1)
        return position < canaryFraction;
    }

    @Override
    public String toString() {
        return canary == null
                ? primary.served().toString()
                : primary.served()
                        + " with canary "
                        + canary.served()
                        + " on "
                        + Math.round(canaryFraction * 100)
                        + "% of records";
    }
}
