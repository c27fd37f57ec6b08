package io.flinktrt.tools.bench;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.tensorrt.TensorRtOptions;
import io.flinktrt.backend.tensorrt.runtime.ImageDecoding;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.batching.RowCodec;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JPEGs through the scheduler and a runner of a model that computes almost nothing (models/
 * image_uint8.onnx: the mean colour), as the operator runs them (at most 4 x max batch in flight):
 * images/s of decode + resize + copy-in with each tensorrt.image-decode (the hardware JPEG decoder,
 * nvJPEG's GPU backend, ImageIO on the copy threads) for a TensorRT plan, on the CPU alone for ONNX
 * Runtime. The log says which nvJPEG backend each lane got. On the GPU host: {@code
 * scripts/gpu-bench.sh images-decode}.
 *
 * <pre>java -cp 'lib/*' io.flinktrt.tools.bench.ImageDecodeThroughput MODEL GLOB [IMAGES]
 *     [MAX_BATCH]</pre>
 */
public final class ImageDecodeThroughput {

    private ImageDecodeThroughput() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args[0].equals("--help")) {
            System.out.println(
                    "usage: ImageDecodeThroughput MODEL GLOB (e.g. 'models/images/photo-224-*.jpg')"
                            + " [IMAGES=20000]"
                            + " [MAX_BATCH=128]");
            System.exit(args.length < 2 ? 2 : 0);
        }
        Path model = Path.of(args[0]);
        List<ByteBuffer> photos = new ArrayList<>();
        for (Path file : BenchRequests.files(args[1])) {
            photos.add(ByteBuffer.wrap(Files.readAllBytes(file)));
        }
        int count = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        int maxBatch = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        Backends.Selection selection = Backends.select(Backends.AUTO, model);
        boolean tensorRt = selection.backend().name().equals("tensorrt");
        List<ImageDecoding> decoders =
                tensorRt
                        ? List.of(ImageDecoding.HARDWARE, ImageDecoding.GPU, ImageDecoding.CPU)
                        : List.of(ImageDecoding.CPU);
        for (ImageDecoding decoding : decoders) {
            Map<String, String> options =
                    tensorRt
                            ? Map.of(TensorRtOptions.IMAGE_DECODE.key(), decoding.name())
                            : Map.of();
            try (ModelRunner runner =
                    selection.backend().open(new ModelConfig(model, 0, maxBatch, 3, options))) {
                ImageDecoder decoder = ImageDecoder.open(ImageSettings.DEFAULT, runner.signature());
                if (decoder == null) {
                    throw new IllegalArgumentException(
                            model + " has no image input: " + runner.signature().inputs());
                }
                run(runner, decoder, photos, Math.min(count, 2_000), maxBatch); // warm-up
                long start = System.nanoTime();
                long bytes = run(runner, decoder, photos, count, maxBatch);
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(
                        "%s on %s, image-decode %s, max batch %d: %d images (%s, %d files, mean %,d"
                                + " bytes) in %.2f s: %.0f images/s, %.0f MB/s of JPEG%n",
                        model.getFileName(),
                        runner.backendName(),
                        decoding.name().toLowerCase(),
                        maxBatch,
                        count,
                        args[1],
                        photos.size(),
                        photos.stream().mapToLong(ByteBuffer::remaining).sum() / photos.size(),
                        seconds,
                        count / seconds,
                        bytes / seconds / 1e6);
            }
        }
    }

    /** Runs {@code count} photos, cycling; returns the JPEG bytes sent. */
    private static long run(
            ModelRunner runner,
            ImageDecoder decoder,
            List<ByteBuffer> photos,
            int count,
            int maxBatch)
            throws InterruptedException {
        Semaphore inFlight = new Semaphore(4 * maxBatch);
        AtomicLong failed = new AtomicLong();
        RowCodec<PendingImage, Boolean> codec = decoder.rows((buffers, row) -> Boolean.TRUE);
        long bytes = 0;
        try (BatchScheduler<PendingImage, Boolean> scheduler =
                new BatchScheduler<>(
                        runner,
                        codec,
                        new BatchingConfig("image-decode", maxBatch, Duration.ofMillis(5)),
                        BatchListener.NONE)) {
            for (int i = 0; i < count; i++) {
                ByteBuffer photo = photos.get(i % photos.size());
                bytes += photo.remaining();
                inFlight.acquire();
                scheduler
                        .submit(new PendingImage(photo.duplicate()))
                        .whenComplete(
                                (ok, e) -> {
                                    if (e != null) {
                                        failed.incrementAndGet();
                                    }
                                    inFlight.release();
                                });
            }
            inFlight.acquire(4 * maxBatch); // every image answered
        }
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " of " + count + " images failed");
        }
        return bytes;
    }
}
