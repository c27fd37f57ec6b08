package io.flinktrt.testing;

import org.apache.flink.configuration.Configuration;
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

    /** With {@code configuration}, e.g. an in-memory metric reporter's. */
    public static MiniClusterResourceConfiguration configuration(
            int slots, Configuration configuration) {
        return new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(slots)
                .setConfiguration(configuration)
                .build();
    }
}
