package io.flinktrt.text;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Tokenizer cost per text on one thread, as the copy threads pay it (TextTokenizer.tokenize: the
 * whole encoding, and a second, cut one for a text over the model's length): a plain timing, run by
 * hand, never by surefire (docs/benchmarks.md, "Tokenizer cost"). Texts: the test vocabulary's
 * words drawn at random, lengths log-normal with median 24 tokens, cut at 128.
 */
public final class TokenizerCostBenchmark {

    public static void main(String[] args) throws Exception {
        int sequence = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        Path dir = Files.createTempDirectory("tokenizer-bench");
        Path file = TextModels.writeTokenizer(dir);
        List<TensorSpec> inputs =
                List.of(
                        new TensorSpec(
                                TextTokenizer.INPUT_IDS, DataType.INT64, new long[] {sequence}),
                        new TensorSpec(
                                TextTokenizer.ATTENTION_MASK,
                                DataType.INT64,
                                new long[] {sequence}));
        TextTokenizer tokenizer =
                TextTokenizer.open(
                        file.toString(),
                        new ModelSignature("bench", "none", inputs, List.of(), 128),
                        0,
                        "max-text-tokens");
        List<String> words =
                List.of(
                        "the",
                        "stream",
                        "flink",
                        "model",
                        "text",
                        "is",
                        "good",
                        "bad",
                        "fast",
                        "gpu",
                        "batch",
                        "tokens",
                        "answer",
                        "question",
                        "not",
                        "very",
                        "running",
                        "kafka",
                        "job",
                        "love",
                        "hate",
                        ",",
                        ".",
                        "unknownword");
        Random random = new Random(22);
        List<String> texts = new ArrayList<>();
        long tokens = 0;
        for (int i = 0; i < 10_000; i++) {
            int length =
                    (int)
                            Math.min(
                                    126,
                                    Math.max(
                                            1,
                                            Math.round(
                                                    Math.exp(
                                                            Math.log(22)
                                                                    + 0.75
                                                                            * random
                                                                                    .nextGaussian()))));
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < length; w++) {
                text.append(w == 0 ? "" : " ").append(words.get(random.nextInt(words.size())));
            }
            texts.add(text.toString());
        }
        for (int round = 0; round < 5; round++) {
            tokens = 0;
            long start = System.nanoTime();
            for (String text : texts) {
                tokens += tokenizer.tokenize(text).ids().length;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    "round %d: %d texts, %.1f tokens/text, %.2f us/text, %.0f texts/s on one thread%n",
                    round,
                    texts.size(),
                    (double) tokens / texts.size(),
                    seconds * 1e6 / texts.size(),
                    texts.size() / seconds);
        }
    }
}
