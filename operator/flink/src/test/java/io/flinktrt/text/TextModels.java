package io.flinktrt.text;

import io.flinktrt.onnx.Onnx;
import io.flinktrt.onnx.TestGraphs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A small WordPiece tokenizer and two text models made in the test (no Python here): an encoder
 * whose hidden states [N, 16, 8] are token embeddings plus token-type embeddings, masked; and a
 * classifier [N, 3] over the masked sum of its token embeddings, with int32 inputs; the encoder
 * also with a dynamic sequence length. All are made of Gather, Cast, Unsqueeze, Add, Mul, ReduceSum
 * and MatMul, which every backend runs.
 */
public final class TextModels {

    /** Tokens every text model here takes: [CLS], up to 14 word pieces, [SEP]. */
    public static final int SEQUENCE = 16;

    public static final int HIDDEN = 8;
    public static final List<String> LABELS = List.of("negative", "neutral", "positive");

    private static final List<String> SPECIAL = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]");
    private static final List<String> WORDS =
            List.of(
                    "the",
                    "a",
                    "stream",
                    "flink",
                    "model",
                    "text",
                    "is",
                    "was",
                    "good",
                    "bad",
                    "fast",
                    "slow",
                    "gpu",
                    "batch",
                    "token",
                    "answer",
                    "question",
                    "not",
                    "very",
                    "run",
                    "##s",
                    "##ing",
                    "##ed",
                    ".",
                    ",",
                    "!",
                    "?",
                    "i",
                    "you",
                    "it",
                    "great",
                    "terrible",
                    "ok",
                    "love",
                    "hate",
                    "kafka",
                    "job",
                    "and",
                    "or",
                    "but");

    private TextModels() {}

    public static int vocabularySize() {
        return SPECIAL.size() + WORDS.size();
    }

    /** Writes a BERT-style WordPiece tokenizer.json ([CLS] $A [SEP], lower case) to {@code dir}. */
    public static Path writeTokenizer(Path dir) throws IOException {
        StringBuilder vocab = new StringBuilder();
        List<String> all = new ArrayList<>(SPECIAL);
        all.addAll(WORDS);
        for (int i = 0; i < all.size(); i++) {
            vocab.append(i == 0 ? "" : ",").append('"').append(all.get(i)).append("\":").append(i);
        }
        StringBuilder added = new StringBuilder();
        for (int i = 0; i < SPECIAL.size(); i++) {
            added.append(i == 0 ? "" : ",")
                    .append("{\"id\":")
                    .append(i)
                    .append(",\"content\":\"")
                    .append(SPECIAL.get(i))
                    .append(
                            "\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                                    + "\"normalized\":false,\"special\":true}");
        }
        String json =
                "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                        + "\"added_tokens\":["
                        + added
                        + "],"
                        + "\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,"
                        + "\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true},"
                        + "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
                        + "\"post_processor\":{\"type\":\"TemplateProcessing\","
                        + "\"single\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},"
                        + "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
                        + "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}}],"
                        + "\"pair\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},"
                        + "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
                        + "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}},"
                        + "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},"
                        + "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":1}}],"
                        + "\"special_tokens\":{"
                        + "\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[2],\"tokens\":[\"[CLS]\"]},"
                        + "\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[3],\"tokens\":[\"[SEP]\"]}}},"
                        + "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
                        + "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\","
                        + "\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":100,"
                        + "\"vocab\":{"
                        + vocab
                        + "}}}";
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json, StandardCharsets.UTF_8);
        return file;
    }

    /** The files {@link #writeAll} wrote. */
    public record Written(Path tokenizer, Path encoder, Path classifier, Path labels) {}

    /** The tokenizer, both models and the labels, in {@code dir}. */
    public static Written writeAll(Path dir) throws IOException {
        return new Written(
                writeTokenizer(dir), writeEncoder(dir), writeClassifier(dir), writeLabels(dir));
    }

    /** One label per line, in the classifier's output order. */
    public static Path writeLabels(Path dir) throws IOException {
        Path file = dir.resolve("labels.txt");
        Files.write(file, LABELS, StandardCharsets.UTF_8);
        return file;
    }

    /**
     * input_ids, attention_mask, token_type_ids: int64 [N, 16] → hidden: float32 [N, 16, 8] =
     * (embedding[input_ids] + types[token_type_ids]) * attention_mask.
     */
    public static Path writeEncoder(Path dir) throws IOException {
        return write(dir.resolve("encoder.onnx"), encoder(SEQUENCE));
    }

    /** The same encoder (same weights) with a dynamic sequence length: [N, S] → [N, S, 8]. */
    public static Path writeDynamicEncoder(Path dir) throws IOException {
        return write(dir.resolve("encoder-dynamic.onnx"), encoder("S"));
    }

    private static TestGraphs encoder(Object length) {
        Random random = new Random(22);
        TestGraphs graph = new TestGraphs();
        graph.input("input_ids", Onnx.INT64, "N", length)
                .input("attention_mask", Onnx.INT64, "N", length)
                .input("token_type_ids", Onnx.INT64, "N", length)
                .output("hidden", Onnx.FLOAT, "N", length, HIDDEN)
                .floats(
                        "table",
                        randoms(random, vocabularySize() * HIDDEN),
                        vocabularySize(),
                        HIDDEN)
                .floats("types", randoms(random, 2 * HIDDEN), 2, HIDDEN)
                .int64s("axis2", 2)
                .node("embed", "Gather", List.of("table", "input_ids"), List.of("embedded"))
                .node("type", "Gather", List.of("types", "token_type_ids"), List.of("typed"))
                .node("add", "Add", List.of("embedded", "typed"), List.of("summed"))
                .cast("cast", "attention_mask", "mask", Onnx.FLOAT)
                .node("unsqueeze", "Unsqueeze", List.of("mask", "axis2"), List.of("mask3"))
                .node("mask", "Mul", List.of("summed", "mask3"), List.of("hidden"));
        return graph;
    }

    /**
     * input_ids, attention_mask: int32 [N, 16] → logits: float32 [N, 3] = (sum over the masked
     * tokens of embedding[input_ids]) x weights.
     */
    public static Path writeClassifier(Path dir) throws IOException {
        Random random = new Random(23);
        TestGraphs graph = new TestGraphs();
        graph.input("input_ids", Onnx.INT32, "N", SEQUENCE)
                .input("attention_mask", Onnx.INT32, "N", SEQUENCE)
                .output("logits", Onnx.FLOAT, "N", LABELS.size())
                .floats(
                        "table",
                        randoms(random, vocabularySize() * HIDDEN),
                        vocabularySize(),
                        HIDDEN)
                .floats("weights", randoms(random, HIDDEN * LABELS.size()), HIDDEN, LABELS.size())
                .int64s("axis1", 1)
                .int64s("axis2", 2)
                .node("embed", "Gather", List.of("table", "input_ids"), List.of("embedded"))
                .cast("cast", "attention_mask", "mask", Onnx.FLOAT)
                .node("unsqueeze", "Unsqueeze", List.of("mask", "axis2"), List.of("mask3"))
                .node("mask", "Mul", List.of("embedded", "mask3"), List.of("masked"))
                .node(
                        "sum",
                        "ReduceSum",
                        List.of("masked", "axis1"),
                        List.of("pooled"),
                        Onnx.intAttribute("keepdims", 0))
                .node("classify", "MatMul", List.of("pooled", "weights"), List.of("logits"));
        return write(dir.resolve("classifier.onnx"), graph);
    }

    private static float[] randoms(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static Path write(Path file, TestGraphs graph) throws IOException {
        Files.write(file, graph.model());
        return file;
    }
}
