package io.flinktrt.tools.bench;

import io.flinktrt.text.TextModels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 22's text bench end to end on ONNX Runtime (the test encoder with a dynamic sequence
 * length, real local Flink, embedded Kafka, SQL): every path answers every text, so each row and
 * each length's latency line is printed.
 */
class TextRatiosITCase {

    @TempDir Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void everyPathAndEveryLengthGetsAFigure() throws Exception {
        Path model = TextModels.writeDynamicEncoder(dir);
        Path tokenizer = TextModels.writeTokenizer(dir);
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            TextRatios.main(
                    new String[] {
                        model.toString(), tokenizer.toString(), "600", "32", "4,8,16", "2"
                    });
        } finally {
            System.setOut(out);
        }
        String report = printed.toString(StandardCharsets.UTF_8);
        out.print(report);

        assertThat(report)
                .contains("answer embedding ARRAY<FLOAT>")
                .containsPattern("tokenizer alone, one thread: 600 texts")
                .containsPattern("\nids: scheduler\\+runner +32 +1 +[\\d,]+ +1\\.000 ")
                .containsPattern("\ntext: scheduler\\+runner +32 +1 +[\\d,]+ +\\d\\.\\d{3} ")
                .containsPattern("\ntext: operator in Flink +32 +1 +[\\d,]+ +\\d\\.\\d{3} ")
                .containsPattern(
                        "\ntext: Kafka job +32 +1 +[\\d,]+ +\\d\\.\\d{3} +Kafka->Flink->Kafka, all sent at once; ")
                .containsPattern("\ntext: SQL ML_PREDICT +32 +1 +[\\d,]+ +\\d\\.\\d{3} ");
        // the texts' lengths run past 16 tokens: cut there, they all fall in one of the 3 buckets
        for (int length : new int[] {4, 8, 16}) {
            assertThat(report).containsPattern("\n  length " + length + ": [\\d,]+ texts, p50 ");
        }
    }
}
