package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Whether a backend can run here; {@code reason} says why (or why not) in words a user can act on.
 */
@PublicEvolving
public record Availability(boolean available, String reason) {

    public static Availability yes(String reason) {
        return new Availability(true, reason);
    }

    public static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
