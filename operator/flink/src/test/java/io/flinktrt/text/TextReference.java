package io.flinktrt.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a text's answer must be, computed apart from the operator: the tokenizer's ids (cut at the
 * model's length by the tokenizer itself), one row at a time through an ONNX Runtime session, and
 * pooling or softmax written out plainly.
 */
public final class TextReference implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    public TextReference(Path tokenizerJson, Path model) throws Exception {
        this.tokenizer =
                HuggingFaceTokenizer.newInstance(
                        tokenizerJson,
                        Map.of(
                                "truncation",
                                "true",
                                "maxLength",
                                Integer.toString(TextModels.SEQUENCE),
                                "modelMaxLength",
                                Integer.toString(TextModels.SEQUENCE),
                                "padding",
                                "max_length"));
        this.session = env.createSession(model.toString(), new OrtSession.SessionOptions());
    }

    public Encoding encode(String text) {
        return tokenizer.encode(text);
    }

    /** The model's first output for this one text, flattened. */
    public float[] output(String text) throws Exception {
        Encoding encoding = encode(text);
        Map<String, long[]> columns =
                Map.of(
                        TextTokenizer.INPUT_IDS, encoding.getIds(),
                        TextTokenizer.ATTENTION_MASK, encoding.getAttentionMask(),
                        TextTokenizer.TOKEN_TYPE_IDS, encoding.getTypeIds());
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            for (var input : session.getInputInfo().entrySet()) {
                long[] values = columns.get(input.getKey());
                boolean int32 = input.getValue().getInfo().toString().contains("INT32");
                if (int32) {
                    int[][] ints = new int[1][values.length];
                    for (int i = 0; i < values.length; i++) {
                        ints[0][i] = (int) values[i];
                    }
                    feed.put(input.getKey(), OnnxTensor.createTensor(env, ints));
                } else {
                    feed.put(input.getKey(), OnnxTensor.createTensor(env, new long[][] {values}));
                }
            }
            try (OrtSession.Result result = session.run(feed)) {
                FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
                float[] values = new float[out.remaining()];
                out.get(values);
                return values;
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    /** Mean over the masked tokens of hidden states [tokens, hidden], L2-normalised if asked. */
    public float[] meanPooled(String text, boolean normalize) throws Exception {
        float[] hidden = output(text);
        long[] mask = encode(text).getAttentionMask();
        double[] sum = new double[TextModels.HIDDEN];
        int tokens = 0;
        for (int t = 0; t < TextModels.SEQUENCE; t++) {
            if (mask[t] == 1) {
                tokens++;
                for (int h = 0; h < TextModels.HIDDEN; h++) {
                    sum[h] += hidden[t * TextModels.HIDDEN + h];
                }
            }
        }
        double norm = 0;
        for (int h = 0; h < sum.length; h++) {
            sum[h] /= tokens;
            norm += sum[h] * sum[h];
        }
        float[] embedding = new float[sum.length];
        for (int h = 0; h < sum.length; h++) {
            embedding[h] = (float) (normalize ? sum[h] / Math.sqrt(norm) : sum[h]);
        }
        return embedding;
    }

    /** The first token's hidden state. */
    public float[] clsPooled(String text) throws Exception {
        float[] hidden = output(text);
        float[] embedding = new float[TextModels.HIDDEN];
        System.arraycopy(hidden, 0, embedding, 0, TextModels.HIDDEN);
        return embedding;
    }

    /** Labels by softmax probability, most probable first: label to probability, in order. */
    public List<Map.Entry<String, Float>> ranked(String text) throws Exception {
        float[] logits = output(text);
        double total = 0;
        for (float l : logits) {
            total += Math.exp(l);
        }
        List<Map.Entry<String, Float>> ranked = new ArrayList<>();
        for (int c = 0; c < logits.length; c++) {
            ranked.add(Map.entry(TextModels.LABELS.get(c), (float) (Math.exp(logits[c]) / total)));
        }
        ranked.sort((a, b) -> Float.compare(b.getValue(), a.getValue()));
        return ranked;
    }

    @Override
    public void close() throws Exception {
        session.close();
        tokenizer.close();
    }
}
