package io.flinktrt.text;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.LabelScore;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one row of a model's output into an answer: an embedding pooled over the tokens (mean over
 * the attention mask, or the first token), optionally L2-normalised, from hidden states {@code
 * [tokens, hidden]}; or the top K labels of a softmax over logits {@code [classes]}. Thread-safe
 * (no state but what {@link #open} read).
 */
@Internal
public final class TextAnswers {

    /** One row's answer: an embedding, or labels (most probable first). */
    public record Answer(float[] embedding, List<LabelScore> labels) {}

    private final TextSettings settings;
    private final int output;
    private final TensorSpec spec;
    private final List<String> labels;

    private TextAnswers(TextSettings settings, int output, TensorSpec spec, List<String> labels) {
        this.settings = settings;
        this.output = output;
        this.spec = spec;
        this.labels = labels;
    }

    /** The answers {@code settings} ask for, from {@code signature}'s output; checks the shapes. */
    public static TextAnswers open(TextSettings settings, ModelSignature signature)
            throws IOException {
        int output = 0;
        if (settings.answerOutput() != null) {
            output = -1;
            for (int i = 0; i < signature.outputs().size(); i++) {
                if (signature.outputs().get(i).name().equals(settings.answerOutput())) {
                    output = i;
                }
            }
            if (output < 0) {
                throw new IllegalArgumentException(
                        "inference.answer-output names '"
                                + settings.answerOutput()
                                + "', which is not an output of the model: "
                                + signature.outputs());
            }
        }
        TensorSpec spec = signature.outputs().get(output);
        if (spec.dtype() != DataType.FLOAT32) {
            throw new IllegalArgumentException(
                    "An answer is made from a float32 output; " + spec + " is not.");
        }
        if (settings.pooling() != TextSettings.Pooling.NONE && settings.topK() > 0) {
            throw new IllegalArgumentException(
                    "inference.pooling and inference.top-k exclude each other: an output is either"
                            + " hidden states or logits.");
        }
        List<String> labels = List.of();
        if (settings.pooling() != TextSettings.Pooling.NONE && spec.sampleShape().length != 2) {
            throw new IllegalArgumentException(
                    "Pooling takes hidden states of shape [batch, tokens, hidden]; output "
                            + spec
                            + " is not.");
        }
        if (settings.topK() > 0) {
            if (spec.sampleShape().length != 1) {
                throw new IllegalArgumentException(
                        "Top-k takes logits of shape [batch, classes]; output "
                                + spec
                                + " is not.");
            }
            if (settings.labelsFile() == null) {
                throw new IllegalArgumentException("inference.top-k needs inference.labels.");
            }
            labels = Files.readAllLines(Path.of(settings.labelsFile()), StandardCharsets.UTF_8);
            while (!labels.isEmpty() && labels.get(labels.size() - 1).isEmpty()) {
                labels = labels.subList(0, labels.size() - 1); // a final newline is no label
            }
            if (labels.size() != spec.sampleShape()[0]) {
                throw new IllegalArgumentException(
                        "Labels file "
                                + settings.labelsFile()
                                + " has "
                                + labels.size()
                                + " labels; output "
                                + spec
                                + " has "
                                + spec.sampleShape()[0]
                                + " classes.");
            }
        }
        return new TextAnswers(settings, output, spec, List.copyOf(labels));
    }

    /** The largest encoded size of an answer in an Avro result, for the result size check. */
    public long maxEncodedBytes() {
        long bytes = 0;
        if (settings.pooling() != TextSettings.Pooling.NONE) {
            bytes += 2 + 5 + 4 * spec.sampleShape()[1]; // union branch, count, floats, end
        }
        if (settings.topK() > 0) {
            List<Integer> longest =
                    labels.stream()
                            .map(l -> l.getBytes(StandardCharsets.UTF_8).length)
                            .sorted((a, b) -> b - a)
                            .limit(settings.topK())
                            .toList();
            bytes += 6;
            for (int length : longest) {
                bytes += 5 + length + 4;
            }
        }
        return bytes;
    }

    /**
     * The answer of row {@code row}; {@code attentionMask} marks the tokens mean pooling takes
     * (null: every position).
     */
    public Answer answer(BatchBuffers buffers, int row, long[] attentionMask) {
        ByteBuffer out = buffers.output(output);
        int start = row * spec.sampleBytes();
        if (settings.topK() > 0) {
            return new Answer(null, topK(out, start));
        }
        int tokens = (int) spec.sampleShape()[0];
        int hidden = (int) spec.sampleShape()[1];
        float[] embedding = new float[hidden];
        if (settings.pooling() == TextSettings.Pooling.CLS) {
            for (int h = 0; h < hidden; h++) {
                embedding[h] = out.getFloat(start + 4 * h);
            }
        } else {
            int counted = 0;
            for (int t = 0; t < tokens; t++) {
                if (attentionMask != null && (t >= attentionMask.length || attentionMask[t] == 0)) {
                    continue;
                }
                counted++;
                for (int h = 0; h < hidden; h++) {
                    embedding[h] += out.getFloat(start + 4 * (t * hidden + h));
                }
            }
            for (int h = 0; h < hidden; h++) {
                embedding[h] /= Math.max(1, counted);
            }
        }
        if (settings.normalize()) {
            double sum = 0;
            for (float v : embedding) {
                sum += (double) v * v;
            }
            float norm = (float) Math.max(Math.sqrt(sum), 1e-12); // as torch's F.normalize
            for (int h = 0; h < hidden; h++) {
                embedding[h] /= norm;
            }
        }
        return new Answer(embedding, null);
    }

    private List<LabelScore> topK(ByteBuffer out, int start) {
        int classes = labels.size();
        float[] probabilities = new float[classes];
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            probabilities[c] = out.getFloat(start + 4 * c);
            max = Math.max(max, probabilities[c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            probabilities[c] = (float) Math.exp(probabilities[c] - max); // stable softmax
            sum += probabilities[c];
        }
        boolean[] taken = new boolean[classes];
        List<LabelScore> top = new ArrayList<>(settings.topK());
        for (int k = 0; k < Math.min(settings.topK(), classes); k++) {
            int best = -1;
            for (int c = 0; c < classes; c++) {
                if (!taken[c] && (best < 0 || probabilities[c] > probabilities[best])) {
                    best = c;
                }
            }
            taken[best] = true;
            top.add(new LabelScore(labels.get(best), (float) (probabilities[best] / sum)));
        }
        return top;
    }
}
