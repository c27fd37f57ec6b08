package io.flinktrt.jobs.cli;

import io.flinktrt.operator.InferenceOptions;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.Map;

/**
 * The defaults of the operator's flags, taken from {@link InferenceOptions} so that help and
 * behaviour follow the options (picocli shows them as {@code ${DEFAULT-VALUE}}).
 */
public final class InferenceDefaults implements IDefaultValueProvider {

    private static final Map<String, String> DEFAULTS =
            Map.of(
                    "--backend", InferenceOptions.BACKEND.defaultValue(),
                    "--device", String.valueOf(InferenceOptions.DEVICE.defaultValue()),
                    "--max-batch", String.valueOf(InferenceOptions.MAX_BATCH_SIZE.defaultValue()),
                    "--max-delay-ms",
                            String.valueOf(InferenceOptions.MAX_DELAY.defaultValue().toMillis()),
                    "--buffers-in-flight",
                            String.valueOf(InferenceOptions.BUFFERS_IN_FLIGHT.defaultValue()),
                    "--capacity", String.valueOf(InferenceOptions.CAPACITY.defaultValue()),
                    "--timeout-ms",
                            String.valueOf(InferenceOptions.TIMEOUT.defaultValue().toMillis()));

    @Override
    public String defaultValue(ArgSpec argSpec) {
        return argSpec instanceof OptionSpec option ? DEFAULTS.get(option.longestName()) : null;
    }
}
