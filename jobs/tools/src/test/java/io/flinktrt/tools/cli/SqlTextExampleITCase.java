package io.flinktrt.tools.cli;

import io.flinktrt.text.TextReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The README's {@code bin/flink-tensorrt sql -f examples/sql/text-embeddings.sql}, as a user runs
 * it: every embedding it prints equals the committed tokenizer and encoder run apart from the
 * operator ({@link TextReference}), the long text says truncated, the empty one its reason.
 */
@Timeout(300)
class SqlTextExampleITCase {

    /** The sample events of the script, by id. */
    private static final Map<String, String> TEXTS =
            Map.of(
                    "e1", "Flink runs the model on the GPU",
                    "e2", "I love Kafka, but I hate slow jobs!",
                    "e3", "the stream was very good and the answer was fast",
                    "e4", "batching tokens is not bad",
                    "e5",
                            "a very very very very long text is cut at the model length and the job"
                                    + " runs on and on");

    private static final Pattern ROW =
            Pattern.compile("^(e\\d) \\| (true|false|null) \\| (\\[[^]]*\\]|null) \\| (.*)$");

    @Test
    void theExampleScriptTurnsTextIntoTheReferenceEmbeddings() throws Exception {
        ExampleScripts.Run run = ExampleScripts.sql("text-embeddings.sql");
        String printed = run.printed();
        assertThat(run.exit()).isZero();
        assertThat(printed).contains("id | truncated | embedding | error").contains("(6 rows)");

        Map<String, Matcher> rows = new HashMap<>();
        for (String line : printed.split("\n")) {
            Matcher row = ROW.matcher(line.strip());
            if (row.matches()) {
                rows.put(row.group(1), row);
            }
        }
        assertThat(rows).containsOnlyKeys("e1", "e2", "e3", "e4", "e5", "e6");
        assertThat(rows.get("e6").group(3)).isEqualTo("null");
        assertThat(rows.get("e6").group(4))
                .isEqualTo("EMPTY_TEXT: INPUT column 'text' is empty or only white space");
        Path models = ExampleScripts.home().resolve("models/text");
        try (TextReference reference =
                new TextReference(
                        models.resolve("tokenizer.json"), models.resolve("text_encoder.onnx"))) {
            for (Map.Entry<String, String> text : TEXTS.entrySet()) {
                Matcher row = rows.get(text.getKey());
                assertThat(row.group(4)).as(text.getKey()).isEqualTo("null");
                assertThat(row.group(2))
                        .as(text.getKey())
                        .isEqualTo(String.valueOf(text.getKey().equals("e5")));
                assertThat(floats(row.group(3)))
                        .as(text.getValue())
                        .containsExactly(
                                reference.meanPooled(text.getValue(), true), within(1e-5f));
            }
        }
    }

    private static float[] floats(String printed) {
        String[] parts = printed.substring(1, printed.length() - 1).split(", ");
        float[] values = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Float.parseFloat(parts[i]);
        }
        assertThat(values).as(Arrays.toString(parts)).hasSize(8);
        return values;
    }
}
