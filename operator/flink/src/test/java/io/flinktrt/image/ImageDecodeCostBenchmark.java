package io.flinktrt.image;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * CPU decode and resize cost per photo on one thread, as the copy threads pay it (ImageDecoder:
 * header checks, ImageIO decode, bilinear resize to 224 x 224): a plain timing, run by hand, never
 * by surefire (docs/benchmarks.md, "Image decode cost on the CPU"). Photos: the committed sets of
 * models/images, 224 x 224 and 1920 x 1080 JPEGs at quality 90.
 */
public final class ImageDecodeCostBenchmark {

    public static void main(String[] args) throws Exception {
        ModelSignature frames =
                new ModelSignature(
                        "bench",
                        "none",
                        List.of(new TensorSpec("frames", DataType.UINT8, new long[] {224, 224, 3})),
                        List.of(),
                        1);
        ImageDecoder decoder = ImageDecoder.open(ImageSettings.DEFAULT, frames);
        List<ByteBuffer> small = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            small.add(TestImages.buffer(String.format("photo-224-%02d.jpg", i)));
        }
        List<ByteBuffer> large = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            large.add(TestImages.buffer("photo-1080p-" + i + ".jpg"));
        }
        for (int round = 0; round < 5; round++) {
            time("224x224", decoder, small, 40, round);
            time("1920x1080", decoder, large, 10, round);
        }
    }

    private static void time(
            String set, ImageDecoder decoder, List<ByteBuffer> photos, int passes, int round)
            throws Exception {
        long start = System.nanoTime();
        long checksum = 0;
        for (int pass = 0; pass < passes; pass++) {
            for (ByteBuffer photo : photos) {
                checksum += new PendingImage(photo.duplicate()).pixels(decoder).rgb()[0];
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int count = passes * photos.size();
        System.out.printf(
                "round %d, %s: %d photos, %.2f ms/photo, %.0f photos/s on one thread (checksum %d)%n",
                round, set, count, seconds * 1000 / count, count / seconds, checksum);
    }
}
