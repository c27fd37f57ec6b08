package io.flinktrt.jobs.cli;

import io.flinktrt.operator.InferenceOptions;

import org.apache.flink.annotation.Internal;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.Map;
import java.util.stream.Collectors;

/**
 * The defaults of the operator's flags, taken from their {@link InferenceOptions} ({@link Knobs})
 * so that help and behaviour follow the options (picocli shows them as {@code ${DEFAULT-VALUE}}).
 */
@Internal
public final class InferenceDefaults implements IDefaultValueProvider {

    private static final Map<String, String> DEFAULTS =
            Knobs.ALL.stream()
                    .filter(knob -> knob.flag() != null && knob.flagDefault() != null)
                    .collect(Collectors.toMap(Knobs.Knob::flag, Knobs.Knob::flagDefault));

    @Override
    public String defaultValue(ArgSpec argSpec) {
        return argSpec instanceof OptionSpec option ? DEFAULTS.get(option.longestName()) : null;
    }
}
