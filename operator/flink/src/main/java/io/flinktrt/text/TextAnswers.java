package io.flinktrt.text;

import io.flinktrt.answer.AnswerOutput;
import io.flinktrt.answer.TopLabels;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.LabelScore;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.nio.ByteBuffer;
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

    /** Null without top-k. */
    private final TopLabels top;

    private TextAnswers(TextSettings settings, int output, TensorSpec spec, TopLabels top) {
        this.settings = settings;
        this.output = output;
        this.spec = spec;
        this.top = top;
    }

    /** The answers {@code settings} ask for, from {@code signature}'s output; checks the shapes. */
    public static TextAnswers open(TextSettings settings, ModelSignature signature)
            throws IOException {
        int output = AnswerOutput.index(signature, settings.answerOutput());
        TensorSpec spec = signature.outputs().get(output);
        if (settings.pooling() != TextSettings.Pooling.NONE && settings.topK() > 0) {
            throw new IllegalArgumentException(
                    "inference.pooling and inference.top-k exclude each other: an output is either"
                            + " hidden states or logits.");
        }
        if (settings.pooling() != TextSettings.Pooling.NONE && spec.sampleShape().length != 2) {
            throw new IllegalArgumentException(
                    "Pooling takes hidden states of shape [batch, tokens, hidden]; output "
                            + spec
                            + " is not.");
        }
        TopLabels top =
                settings.topK() > 0
                        ? TopLabels.open(settings.topK(), settings.labelsFile(), spec)
                        : null;
        return new TextAnswers(settings, output, spec, top);
    }

    /** The largest encoded size of an answer in an Avro result, for the result size check. */
    public long maxEncodedBytes() {
        long bytes = 0;
        if (settings.pooling() != TextSettings.Pooling.NONE) {
            bytes += 2 + 5 + 4 * spec.sampleShape()[1]; // union branch, count, floats, end
        }
        return bytes + (top == null ? 0 : top.maxEncodedBytes());
    }

    /**
     * The answer of row {@code row}; {@code attentionMask} marks the tokens mean pooling takes
     * (null: every position).
     */
    public Answer answer(BatchBuffers buffers, int row, long[] attentionMask) {
        ByteBuffer out = buffers.output(output);
        int start = row * spec.sampleBytes();
        if (top != null) {
            return new Answer(null, top.of(out, start));
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
}
