package io.flinktrt.backend;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads one backend's string settings into typed {@link ConfigOption}s; what every backend checks
 * alike.
 */
@Internal
public final class BackendOptions {

    private BackendOptions() {}

    /**
     * The settings of {@code options} whose keys start with {@code prefix}, each known and readable
     * as its option's type.
     *
     * @throws IllegalArgumentException for an unknown key or a value of the wrong type, naming the
     *     key
     */
    public static Configuration parse(
            Map<String, String> options, String prefix, List<ConfigOption<?>> known) {
        Configuration config = new Configuration();
        for (Map.Entry<String, String> setting : options.entrySet()) {
            if (!setting.getKey().startsWith(prefix)) {
                continue;
            }
            ConfigOption<?> option =
                    known.stream()
                            .filter(o -> o.key().equals(setting.getKey()))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new IllegalArgumentException(
                                                    "Unknown option "
                                                            + setting.getKey()
                                                            + "; the "
                                                            + prefix
                                                            + "* options are "
                                                            + keys(known)
                                                            + "."));
            config.setString(option.key(), setting.getValue().trim());
            try {
                config.get(option);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        option.key()
                                + " must be "
                                + typeName(option)
                                + ", was '"
                                + setting.getValue()
                                + "'.",
                        e);
            }
        }
        return config;
    }

    private static String keys(List<ConfigOption<?>> options) {
        return options.stream().map(ConfigOption::key).collect(Collectors.joining(", "));
    }

    private static String typeName(ConfigOption<?> option) {
        Object example = option.hasDefaultValue() ? option.defaultValue() : "";
        if (example instanceof Boolean) {
            return "true or false";
        }
        if (example instanceof Integer) {
            return "a whole number";
        }
        return "text";
    }
}
