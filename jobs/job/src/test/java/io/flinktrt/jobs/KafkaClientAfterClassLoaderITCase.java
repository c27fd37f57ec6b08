package io.flinktrt.jobs;

import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.RawRequestDeserializer;

import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.SerializedValue;

import org.apache.kafka.common.network.Selector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cancelled job's Kafka source closes its enumerator's Admin client on the JobManager after Flink
 * 2.2.1 released the job's class loader (the source coordinator is closed asynchronously), and the
 * client's network thread then loads {@code Selector$CloseMode} for the first time: {@code
 * NoClassDefFoundError} at every early cancel on a cluster, the connections left unclosed. Here the
 * same steps with real parts: the job's coordinators deserialized in a class loader that, like the
 * one Flink makes from the job jar, has the Kafka client and connector of its own; an Admin client
 * of that loader talking to the broker; the loader closed; then the client.
 */
@Timeout(120)
class KafkaClientAfterClassLoaderITCase {

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    @Test
    void anAdminClientOfTheJobClosesAfterTheJobsClassLoaderWithoutError() throws Exception {
        KAFKA.createTopics(1, "loader-requests", "loader-results", "loader-dead-letter");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TestJobs.mlp(KAFKA, "loader").addTo(env);
        JobGraph graph = env.getStreamGraph().getJobGraph();

        AutoCloseable admin;
        try (CapturedLogs logs = new CapturedLogs()) {
            try (JobClassLoader loader = new JobClassLoader()) {
                // What the JobManager does with the submitted job: the coordinators' providers,
                // the Kafka source in them, come out of the job's class loader.
                int providers = 0;
                for (JobVertex vertex : graph.getVertices()) {
                    for (SerializedValue<OperatorCoordinator.Provider> provider :
                            vertex.getOperatorCoordinators()) {
                        provider.deserializeValue(loader);
                        providers++;
                    }
                }
                assertThat(providers).as("coordinator providers (the Kafka source)").isOne();
                admin = adminOf(loader);
            }
            admin.close();

            assertThat(logs.describe())
                    .as("warnings and errors while the client closed")
                    .noneMatch(line -> line.contains("NoClassDefFoundError"))
                    .noneMatch(line -> line.contains("Failed to close"));
        }
    }

    /**
     * An Admin client of {@code loader}'s Kafka classes, connected to the broker; made with {@code
     * loader} as the context class loader, as Flink runs a coordinator's code (Kafka loads its
     * configured classes from there).
     */
    private static AutoCloseable adminOf(ClassLoader loader) throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader context = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            Class<?> adminClass =
                    Class.forName("org.apache.kafka.clients.admin.Admin", true, loader);
            assertThat(adminClass.getClassLoader()).isSameAs(loader);
            Object admin = adminClass.getMethod("create", Properties.class).invoke(null, client());
            Object cluster = adminClass.getMethod("describeCluster").invoke(admin);
            Future<?> nodes = (Future<?>) cluster.getClass().getMethod("nodes").invoke(cluster);
            assertThat(nodes.get(30, TimeUnit.SECONDS)).asString().contains("id: ");
            return (AutoCloseable) admin;
        } finally {
            thread.setContextClassLoader(context);
        }
    }

    private static Properties client() {
        Properties client = KAFKA.clientProperties();
        client.setProperty("client.id", "loader-enumerator-admin-client");
        return client;
    }

    /**
     * A job jar's class loader: the Kafka client, the connector and the job's Kafka classes from
     * its own URLs (the jars this test has them from), the rest from the parent, as Flink's
     * child-first loader finds them in a job jar and in Flink's lib/.
     */
    private static final class JobClassLoader extends URLClassLoader {

        private static final List<String> OWN =
                List.of(
                        "org.apache.kafka.",
                        "org.apache.flink.connector.kafka.",
                        "io.flinktrt.jobs.kafka.");

        JobClassLoader() {
            super(
                    new URL[] {
                        location(Selector.class),
                        location(KafkaSource.class),
                        location(RawRequestDeserializer.class)
                    },
                    KafkaClientAfterClassLoaderITCase.class.getClassLoader());
        }

        private static URL location(Class<?> type) {
            return type.getProtectionDomain().getCodeSource().getLocation();
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (OWN.stream().noneMatch(name::startsWith)) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                if (loaded == null) {
                    loaded = findClass(name);
                }
                if (resolve) {
                    resolveClass(loaded);
                }
                return loaded;
            }
        }
    }
}
