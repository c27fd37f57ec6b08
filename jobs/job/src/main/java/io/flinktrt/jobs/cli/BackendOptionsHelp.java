package io.flinktrt.jobs.cli;

import io.flinktrt.backend.onnxruntime.OnnxRuntimeOptions;
import io.flinktrt.backend.tensorrt.TensorRtOptions;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.description.BlockElement;
import org.apache.flink.configuration.description.TextElement;

import java.util.ArrayList;
import java.util.List;
import java.util.ListResourceBundle;
import java.util.stream.Stream;

/**
 * The help's list of backend options ({@code --set KEY=VALUE}), made from {@link TensorRtOptions}
 * and {@link OnnxRuntimeOptions}: picocli reads a command's footer from this resource bundle.
 */
@Internal
public final class BackendOptionsHelp extends ListResourceBundle {

    @Override
    protected Object[][] getContents() {
        List<String> lines = new ArrayList<>();
        lines.add("%nBackend options (--set KEY=VALUE):");
        Stream.concat(TensorRtOptions.ALL.stream(), OnnxRuntimeOptions.ALL.stream())
                .forEach(
                        option ->
                                lines.add(
                                        "  "
                                                + option.key()
                                                + " (default: "
                                                + defaultText(option)
                                                + ")%n      "
                                                + text(option).replace("%", "%%")));
        return new Object[][] {{"usage.footer", String.join("%n", lines)}};
    }

    /** The option's description as plain text (the options here give theirs as plain strings). */
    static String text(ConfigOption<?> option) {
        StringBuilder text = new StringBuilder();
        for (BlockElement block : option.description().getBlocks()) {
            if (block instanceof TextElement element) {
                text.append(element.getFormat());
            }
        }
        return text.toString();
    }

    private static String defaultText(ConfigOption<?> option) {
        return option.hasDefaultValue() ? String.valueOf(option.defaultValue()) : "none";
    }
}
