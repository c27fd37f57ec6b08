package io.flinktrt.jobs.cli;

import io.flinktrt.operator.InferenceOptions;
import io.flinktrt.sql.ModelProviderOptions;

import org.apache.flink.configuration.ConfigOption;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;

/** The knob table names every option of each door once, and docs/options.md is that table. */
class KnobsTest {

    private static final Path DOC = Path.of("../../docs/options.md");

    @Test
    void everyConfigurationOptionIsAKnob() {
        assertThat(Knobs.ALL.stream().map(Knobs.Knob::option).filter(Objects::nonNull))
                .containsExactlyElementsOf(InferenceOptions.ALL);
    }

    @Test
    void everyMlPredictOptionIsAKnob() throws Exception {
        List<ConfigOption<?>> sql = new ArrayList<>();
        for (Field field : ModelProviderOptions.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers())
                    && ConfigOption.class.isAssignableFrom(field.getType())) {
                sql.add((ConfigOption<?>) field.get(null));
            }
        }
        assertThat(Knobs.ALL.stream().map(Knobs.Knob::sql).filter(Objects::nonNull))
                .containsExactlyInAnyOrderElementsOf(sql);
    }

    @Test
    void everyInferenceFlagOfRunIsAKnobAndTakesItsOptionsDefault() {
        CommandLine run = new CommandLine(new RunCommand());
        List<String> flags =
                run.getCommandSpec().mixins().get("inference").options().stream()
                        .map(OptionSpec::longestName)
                        // --model-name: inference.model's flag beside --model-repository
                        .filter(name -> !name.equals("--set") && !name.equals("--model-name"))
                        .toList();
        assertThat(Knobs.ALL.stream().map(Knobs.Knob::flag).filter(Objects::nonNull))
                .containsExactlyInAnyOrderElementsOf(flags);
        run.parseArgs("--model", "m.onnx");
        var config = new RunCommand();
        new CommandLine(config).parseArgs("--model", "m.onnx");
        assertThat(config.inference.toConfiguration().get(InferenceOptions.MAX_DELAY))
                .isEqualTo(InferenceOptions.MAX_DELAY.defaultValue());
        assertThat(config.inference.toConfiguration().get(InferenceOptions.TIMEOUT))
                .isEqualTo(InferenceOptions.TIMEOUT.defaultValue());
        assertThat(config.inference.toConfiguration().get(InferenceOptions.MAX_BATCH_SIZE))
                .isEqualTo(InferenceOptions.MAX_BATCH_SIZE.defaultValue());
    }

    @Test
    void docsOptionsIsTheTable() throws Exception {
        String table = markdown();
        String doc = Files.exists(DOC) ? Files.readString(DOC) : "";
        if (!doc.equals(table)) {
            Path generated = Path.of("target/options.md");
            Files.writeString(generated, table);
            throw new AssertionError(
                    "docs/options.md is not the knob table; the table is in "
                            + generated.toAbsolutePath()
                            + ": copy it to docs/options.md");
        }
    }

    private static String markdown() {
        StringBuilder out =
                new StringBuilder(
                        "# Options\n\n"
                                + "Generated from `jobs/job/.../cli/Knobs.java` by KnobsTest: each knob under its"
                                + " name at each door.\nThe DataStream builder (`fromConfiguration`) and the job"
                                + " take the configuration key; `bin/flink-tensorrt run` and\n`local` take the"
                                + " flag, or `--set KEY=VALUE` where there is none; ML_PREDICT takes the key in\n"
                                + "`CREATE MODEL ... WITH (...)`. Backend options (`tensorrt.*`, `onnxruntime.*`)"
                                + " pass through every door\nunder their own names (`bin/flink-tensorrt run --help`"
                                + " lists them).\n\n"
                                + "| configuration key | ML_PREDICT | flag | default | what it does |\n"
                                + "| --- | --- | --- | --- | --- |\n");
        for (Knobs.Knob knob : Knobs.ALL) {
            ConfigOption<?> described = knob.option() != null ? knob.option() : knob.sql();
            out.append("| ")
                    .append(knob.option() != null ? "`" + knob.option().key() + "`" : "")
                    .append(" | ")
                    .append(
                            knob.sql() != null
                                    ? "`" + knob.sql().key() + "`"
                                    : knob.note().replace("ML_PREDICT: ", ""))
                    .append(" | ")
                    .append(
                            knob.flag() != null
                                    ? "`" + knob.flag() + "`"
                                    : knob.option() != null ? "`--set`" : "")
                    .append(" | ")
                    .append(defaultText(described))
                    .append(" | ")
                    .append(
                            BackendOptionsHelp.text(described)
                                    .replace("|", "\\|")
                                    .replace("\n", " "))
                    .append(" |\n");
        }
        return out.toString();
    }

    private static String defaultText(ConfigOption<?> option) {
        if (!option.hasDefaultValue()) {
            return "";
        }
        Object value = option.defaultValue();
        return "`" + (value instanceof Duration d ? d.toMillis() + " ms" : value) + "`";
    }
}
