package io.flinktrt.answer;

import io.flinktrt.backend.TensorSpec;
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
 * The K most probable labels of a classifier's logits {@code [classes]}: a softmax, then the names
 * from a labels file (one a line, in the order of the outputs). Shared by text and image answers;
 * thread-safe (no state but what {@link #open} read).
 */
@Internal
public final class TopLabels {

    private final int k;
    private final List<String> labels;

    private TopLabels(int k, List<String> labels) {
        this.k = k;
        this.labels = labels;
    }

    /** The top {@code k} of {@code logits}, named by {@code labelsFile}; checks they agree. */
    public static TopLabels open(int k, String labelsFile, TensorSpec logits) throws IOException {
        if (logits.sampleShape().length != 1) {
            throw new IllegalArgumentException(
                    "Top-k takes logits of shape [batch, classes]; output " + logits + " is not.");
        }
        if (labelsFile == null) {
            throw new IllegalArgumentException("inference.top-k needs inference.labels.");
        }
        List<String> labels = Files.readAllLines(Path.of(labelsFile), StandardCharsets.UTF_8);
        while (!labels.isEmpty() && labels.get(labels.size() - 1).isEmpty()) {
            labels = labels.subList(0, labels.size() - 1); // a final newline is no label
        }
        if (labels.size() != logits.sampleShape()[0]) {
            throw new IllegalArgumentException(
                    "Labels file "
                            + labelsFile
                            + " has "
                            + labels.size()
                            + " labels; output "
                            + logits
                            + " has "
                            + logits.sampleShape()[0]
                            + " classes.");
        }
        return new TopLabels(k, List.copyOf(labels));
    }

    /** The largest encoded size of the labels in an Avro result, for the result size check. */
    public long maxEncodedBytes() {
        List<Integer> longest =
                labels.stream()
                        .map(l -> l.getBytes(StandardCharsets.UTF_8).length)
                        .sorted((a, b) -> b - a)
                        .limit(k)
                        .toList();
        long bytes = 6;
        for (int length : longest) {
            bytes += 5 + length + 4;
        }
        return bytes;
    }

    /** The top labels of the logits at byte {@code start} of {@code out}, most probable first. */
    public List<LabelScore> of(ByteBuffer out, int start) {
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
        List<LabelScore> top = new ArrayList<>(k);
        for (int i = 0; i < Math.min(k, classes); i++) {
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

    /** The labels' names, for an answer POJO's array. */
    public static String[] names(List<LabelScore> top) {
        return top.stream().map(LabelScore::getLabel).toArray(String[]::new);
    }

    /** The labels' scores, for an answer POJO's array. */
    public static float[] scores(List<LabelScore> top) {
        float[] scores = new float[top.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = top.get(i).getScore();
        }
        return scores;
    }
}
