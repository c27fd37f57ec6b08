package io.flinktrt.image;

import io.flinktrt.backend.Backends;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What an image's answer must be, computed apart from the operator: the CPU decoder's pixels at the
 * model's size, made into the input tensor here, run one image at a time through an ONNX Runtime
 * session.
 */
public final class ImageReference implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final ImageDecoder decoder;

    public ImageReference(Path model) throws Exception {
        this.session = env.createSession(model.toString(), new OrtSession.SessionOptions());
        this.decoder =
                ImageDecoder.open(ImageSettings.DEFAULT, Backends.describe("onnxruntime", model));
    }

    /** The first output for image {@code name} on a uint8 [1, 224, 224, 3] model. */
    public float[] onFrame(String name) throws Exception {
        byte[] rgb = new PendingImage(TestImages.buffer(name)).pixels(decoder).rgb();
        ByteBuffer frame = ByteBuffer.allocateDirect(rgb.length);
        frame.put(rgb).flip();
        return run(
                OnnxTensor.createTensor(
                        env, frame, new long[] {1, 224, 224, 3}, OnnxJavaType.UINT8));
    }

    /**
     * The first output for image {@code name} on a float [1, 3, 224, 224] model: (pixel / 255 -
     * mean) / std, channel planes.
     */
    public float[] onPlanes(String name, List<Float> mean, List<Float> std) throws Exception {
        byte[] rgb = new PendingImage(TestImages.buffer(name)).pixels(decoder).rgb();
        float[] planes = new float[rgb.length];
        int plane = 224 * 224;
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                planes[c * plane + p] = ((rgb[3 * p + c] & 0xFF) / 255f - mean.get(c)) / std.get(c);
            }
        }
        return run(
                OnnxTensor.createTensor(
                        env, FloatBuffer.wrap(planes), new long[] {1, 3, 224, 224}));
    }

    /** {@code labels} with the softmax of {@code logits}, most probable first. */
    public static List<Map.Entry<String, Float>> ranked(float[] logits, List<String> labels) {
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l);
        }
        List<Map.Entry<String, Float>> ranked = new ArrayList<>();
        for (int c = 0; c < logits.length; c++) {
            ranked.add(Map.entry(labels.get(c), (float) (Math.exp(logits[c]) / sum)));
        }
        ranked.sort((a, b) -> Float.compare(b.getValue(), a.getValue()));
        return ranked;
    }

    private float[] run(OnnxTensor input) throws Exception {
        try (input;
                OrtSession.Result result =
                        session.run(Map.of(session.getInputNames().iterator().next(), input))) {
            return ((float[][]) result.get(0).getValue())[0];
        }
    }

    @Override
    public void close() throws Exception {
        session.close();
    }
}
