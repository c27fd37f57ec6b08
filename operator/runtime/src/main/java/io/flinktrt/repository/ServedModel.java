package io.flinktrt.repository;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * Which model answered a record: its name and, for a model from a {@link ModelRepository}, its
 * version ({@link #NO_VERSION} for a model given as a plain file).
 */
@PublicEvolving
public record ServedModel(String name, long version) implements Serializable {

    public static final long NO_VERSION = 0;

    public boolean versioned() {
        return version != NO_VERSION;
    }

    @Override
    public String toString() {
        return versioned() ? name + " v" + version : name;
    }
}
