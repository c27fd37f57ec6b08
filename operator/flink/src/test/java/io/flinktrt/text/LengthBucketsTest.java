package io.flinktrt.text;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.batching.RowFailedException;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * A text model with a dynamic sequence length on ONNX Runtime, batched by length: texts wait with
 * those of their length bucket, each batch runs at its bucket's length, and every row's hidden
 * states equal the fixed-length model's for that text alone (padded to 16).
 */
@Timeout(120)
class LengthBucketsTest {

    @TempDir static Path dir;

    private static Path tokenizerFile;
    private static Path dynamicEncoder;
    private static Path fixedEncoder;

    /** 3 and 4 tokens with [CLS] and [SEP]: bucket 4. */
    private static final List<String> SHORT = List.of("gpu", "kafka job", "the stream", "fast");

    /** 6 and 7 tokens: bucket 8. */
    private static final List<String> MEDIUM =
            List.of("the model is good", "i love kafka and flink");

    /** 12 and 16 tokens: bucket 16. */
    private static final List<String> LONG =
            List.of("the flink job run a batch and it is fast", TextInferenceITCase.FOURTEEN_WORDS);

    /** What a row's batch ran as, and the row's hidden states at that length. */
    record Seen(int batchRows, int length, float[] hidden) {}

    @BeforeAll
    static void writeModels() throws Exception {
        tokenizerFile = TextModels.writeTokenizer(dir);
        dynamicEncoder = TextModels.writeDynamicEncoder(dir);
        fixedEncoder = TextModels.writeEncoder(dir);
    }

    @Test
    void textsWaitWithTheirLengthAndEachBatchRunsAtItsBucketWithTheFixedModelsAnswers()
            throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 2; i++) { // interleaved, as a stream mixes them
            texts.add(SHORT.get(2 * i));
            texts.add(LONG.get(i));
            texts.add(SHORT.get(2 * i + 1));
            texts.add(MEDIUM.get(i));
        }
        List<Seen> seen = runAll(texts, Duration.ofMillis(300));

        try (TextReference reference = new TextReference(tokenizerFile, fixedEncoder)) {
            for (int i = 0; i < texts.size(); i++) {
                String text = texts.get(i);
                int expectedLength = SHORT.contains(text) ? 4 : MEDIUM.contains(text) ? 8 : 16;
                int expectedRows = SHORT.contains(text) ? 4 : 2;
                assertThat(seen.get(i).length()).as(text).isEqualTo(expectedLength);
                assertThat(seen.get(i).batchRows()).as(text).isEqualTo(expectedRows);
                float[] full = reference.output(text);
                float[] atLength = seen.get(i).hidden();
                for (int v = 0; v < expectedLength * TextModels.HIDDEN; v++) {
                    assertThat(atLength[v])
                            .as(text + " value " + v)
                            .isCloseTo(full[v], within(1e-5f));
                }
            }
        }
    }

    @Test
    void aTextOfEachLengthLeavesByMaxDelayOnItsOwnWithoutWaitingForTheOther() throws Exception {
        List<Seen> seen =
                runAll(List.of("gpu", TextInferenceITCase.FOURTEEN_WORDS), Duration.ofMillis(50));
        assertThat(seen).extracting(Seen::length).containsExactly(4, 16);
        assertThat(seen).extracting(Seen::batchRows).containsExactly(1, 1);
    }

    @Test
    void aTextTheTokenizerRefusesFailsAloneBeforeItQueues() throws Exception {
        try (ModelRunner runner = open(List.of(4, 8, 16));
                BatchScheduler<PendingText, Seen> scheduler =
                        new BatchScheduler<>(
                                runner,
                                codec(
                                        TextTokenizer.open(
                                                tokenizerFile.toString(),
                                                runner.signature(),
                                                8,
                                                "max-text-tokens")),
                                new BatchingConfig("test", 8, Duration.ofMillis(20)),
                                BatchListener.NONE)) {
            CompletableFuture<Seen> tooLong =
                    scheduler.submit(new PendingText(TextInferenceITCase.FOURTEEN_WORDS));
            CompletableFuture<Seen> fine = scheduler.submit(new PendingText("gpu"));
            assertThat(fine.get(30, TimeUnit.SECONDS).length()).isEqualTo(4);
            assertThatThrownBy(() -> tooLong.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(RowFailedException.class)
                    .hasMessageContaining("16 tokens");
        }
    }

    @Test
    void aDynamicLengthModelWithoutSequenceLengthsIsRefusedWithTheOptionToSet() {
        assertThatThrownBy(() -> open(List.of()).close())
                .hasMessageContaining("dynamic sequence dimension")
                .hasMessageContaining("inference.sequence-lengths");
    }

    private static ModelRunner open(List<Integer> lengths) throws Exception {
        return new OnnxRuntimeBackend()
                .open(new ModelConfig(dynamicEncoder, 0, 8, 1, Map.of(), lengths));
    }

    private static List<Seen> runAll(List<String> texts, Duration maxDelay) throws Exception {
        try (ModelRunner runner = open(List.of(4, 8, 16));
                BatchScheduler<PendingText, Seen> scheduler =
                        new BatchScheduler<>(
                                runner,
                                codec(
                                        TextTokenizer.open(
                                                tokenizerFile.toString(),
                                                runner.signature(),
                                                0,
                                                "")),
                                new BatchingConfig("test", 8, maxDelay),
                                BatchListener.NONE)) {
            List<CompletableFuture<Seen>> futures = new ArrayList<>();
            for (String text : texts) {
                futures.add(scheduler.submit(new PendingText(text)));
            }
            List<Seen> seen = new ArrayList<>();
            for (CompletableFuture<Seen> future : futures) {
                seen.add(future.get(30, TimeUnit.SECONDS));
            }
            return seen;
        }
    }

    /** Rows tokenized when they queue; what a row gives back is its batch and hidden states. */
    static RowCodec<PendingText, Seen> codec(TextTokenizer tokenizer) {
        return tokenizer.rows(
                (tokens, buffers, row, batch) -> {
                    int floats = TextModels.SEQUENCE * TextModels.HIDDEN;
                    float[] hidden = new float[floats];
                    FloatBuffer out = buffers.output(0).asFloatBuffer();
                    out.get(row * floats, hidden);
                    return new Seen(batch.run().rows(), batch.run().executedLength(), hidden);
                });
    }
}
