package io.flinktrt.tools.bench;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.backend.tensorrt.TensorRtBackend;
import io.flinktrt.backend.tensorrt.TensorRtOptions;
import io.flinktrt.backend.tensorrt.runtime.ImageDecoding;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.image.ImageDecoder;
import io.flinktrt.image.ImageSettings;
import io.flinktrt.image.PendingImage;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Photos through an image classifier three ways: the TensorRT plan with JPEGs decoded on the GPU
 * (nvJPEG + NPP), the same plan with them decoded on the CPU, and ONNX Runtime on the ONNX model
 * with the CPU decoder (the reference). Prints top-1 agreement and the max |diff| of the logits of
 * each against the reference, so that the decoder's share of the difference is apart from the
 * engine's (FP16, INT8). On the GPU host: {@code scripts/gpu-bench.sh images-agreement}.
 *
 * <pre>java -cp 'lib/*' io.flinktrt.tools.bench.ImageAgreement PLAN ONNX GLOB [MAX_BATCH]</pre>
 */
public final class ImageAgreement {

    private ImageAgreement() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args[0].equals("--help")) {
            System.out.println(
                    "usage: ImageAgreement PLAN ONNX GLOB (e.g. 'models/images/photo-*.jpg')"
                            + " [MAX_BATCH=32]");
            System.exit(args.length < 3 ? 2 : 0);
        }
        Path plan = Path.of(args[0]);
        Path onnx = Path.of(args[1]);
        List<ByteBuffer> photos = new ArrayList<>();
        for (Path file : BenchRequests.files(args[2])) {
            photos.add(ByteBuffer.wrap(Files.readAllBytes(file)));
        }
        int maxBatch = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        List<float[]> reference =
                logits(new OnnxRuntimeBackend(), onnx, Map.of(), photos, maxBatch);
        for (ImageDecoding decoding : List.of(ImageDecoding.HARDWARE, ImageDecoding.CPU)) {
            List<float[]> trt =
                    logits(
                            new TensorRtBackend(),
                            plan,
                            Map.of(TensorRtOptions.IMAGE_DECODE.key(), decoding.name()),
                            photos,
                            maxBatch);
            int agree = 0;
            double maxDiff = 0;
            for (int i = 0; i < photos.size(); i++) {
                agree += top(trt.get(i)) == top(reference.get(i)) ? 1 : 0;
                for (int j = 0; j < reference.get(i).length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(trt.get(i)[j] - reference.get(i)[j]));
                }
            }
            System.out.printf(
                    "%s (image-decode %s) vs ONNX Runtime on the CPU decoder, %d photos of %s:"
                            + " top-1 agreement %d of %d, max |diff| of the logits %.4f%n",
                    plan.getFileName(),
                    decoding.name().toLowerCase(),
                    photos.size(),
                    args[2],
                    agree,
                    photos.size(),
                    maxDiff);
        }
    }

    /** Each photo's first output, in order. */
    private static List<float[]> logits(
            InferenceBackend backend,
            Path model,
            Map<String, String> options,
            List<ByteBuffer> photos,
            int maxBatch)
            throws Exception {
        ModelRunner opened = backend.open(new ModelConfig(model, 0, maxBatch, 3, options));
        int floats = (int) opened.signature().outputs().get(0).sampleElements();
        try (ModelRunner runner = opened;
                BatchScheduler<PendingImage, float[]> scheduler =
                        new BatchScheduler<>(
                                runner,
                                ImageDecoder.open(ImageSettings.DEFAULT, runner.signature())
                                        .rows((buffers, row) -> firstOutput(buffers, row, floats)),
                                new BatchingConfig(
                                        "image-agreement", maxBatch, Duration.ofMillis(5)),
                                BatchListener.NONE)) {
            List<CompletableFuture<float[]>> futures = new ArrayList<>();
            for (ByteBuffer photo : photos) {
                futures.add(scheduler.submit(new PendingImage(photo.duplicate())));
            }
            List<float[]> logits = new ArrayList<>();
            for (CompletableFuture<float[]> future : futures) {
                logits.add(future.get(60, TimeUnit.SECONDS));
            }
            return logits;
        }
    }

    /** Output 0 of a row, as floats. */
    private static float[] firstOutput(BatchBuffers buffers, int row, int floats) {
        ByteBuffer output = buffers.output(0);
        float[] values = new float[floats];
        for (int i = 0; i < floats; i++) {
            values[i] = output.getFloat(4 * (row * floats + i));
        }
        return values;
    }

    private static int top(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            best = logits[i] > logits[best] ? i : best;
        }
        return best;
    }
}
