package io.flinktrt.jobs.kafka;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Kafka client settings a user passes through (TLS, SASL, tuning): a properties file, then repeated
 * {@code key=value} overrides. The same set goes to the source, the sink and the tools.
 */
@Internal
public final class KafkaClientProperties {

    /** Keys whose values are secrets: never logged, never put in Flink's configuration. */
    private static final Pattern SECRET =
            Pattern.compile("(?i).*(password|secret|jaas|token|key\\.pem|credentials).*");

    private KafkaClientProperties() {}

    public static Properties load(Path file, List<String> overrides) throws IOException {
        Properties properties = new Properties();
        if (file != null) {
            try (Reader reader = Files.newBufferedReader(file)) {
                properties.load(reader);
            }
        }
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(
                        "Kafka property '"
                                + redact(override)
                                + "' is not key=value, e.g. --kafka-property security.protocol=SASL_SSL");
            }
            properties.setProperty(override.substring(0, eq).trim(), override.substring(eq + 1));
        }
        return properties;
    }

    public static boolean isSecret(String key) {
        return SECRET.matcher(key).matches();
    }

    /** The properties as text safe to print: secret values replaced by ****. */
    public static String describe(Properties properties) {
        Map<String, String> shown = new TreeMap<>();
        properties
                .stringPropertyNames()
                .forEach(k -> shown.put(k, isSecret(k) ? "****" : properties.getProperty(k)));
        return shown.toString();
    }

    private static String redact(String override) {
        int eq = override.indexOf('=');
        return eq > 0 && isSecret(override.substring(0, eq))
                ? override.substring(0, eq) + "=****"
                : override;
    }
}
