package io.flinktrt.testing;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/**
 * The Flink MiniCluster of a test class: one task manager, as many slots as its jobs' parallelism.
 */
public final class MiniClusters {

    private MiniClusters() {}

    public static MiniClusterExtension withSlots(int slots) {
        return new MiniClusterExtension(configuration(slots, new Configuration()));
    }

    /**
     * Reporting every metric to {@code reporter} (one that retains them, to read after a bounded
     * job).
     */
    public static MiniClusterExtension withReporter(int slots, InMemoryReporter reporter) {
        return new MiniClusterExtension(configuration(slots, reporter));
    }

    /** {@link #withReporter}'s cluster, for an extension of another kind. */
    public static MiniClusterResourceConfiguration configuration(
            int slots, InMemoryReporter reporter) {
        return configuration(slots, reporter.addToConfiguration(new Configuration()));
    }

    private static MiniClusterResourceConfiguration configuration(
            int slots, Configuration configuration) {
        return new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(slots)
                .setConfiguration(configuration)
                .build();
    }
}
