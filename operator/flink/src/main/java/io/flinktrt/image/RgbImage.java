package io.flinktrt.image;

import org.apache.flink.annotation.Internal;

/**
 * Decoded pixels, 8-bit R, G, B interleaved row by row ({@code [height, width, 3]}).
 *
 * <p>{@link #resized} is bilinear with half-pixel centres, as OpenCV's {@code INTER_LINEAR} and
 * NPP's linear resize: destination pixel x samples source x' = (x + 0.5) * srcWidth / width - 0.5,
 * clamped to the edge, and each channel is rounded to the nearest 8-bit value. There is no
 * antialiasing when shrinking (neither of those has it either), so a large photo shrunk a lot is
 * sharper but noisier than with an area filter.
 */
@Internal
public record RgbImage(int width, int height, byte[] rgb) {

    /**
     * Turned upright as the EXIF orientation says: 2 mirrored, 3 rotated 180 degrees, 4 flipped, 5
     * transposed, 6 to be rotated 90 degrees clockwise, 7 transversed, 8 to be rotated 90 degrees
     * anticlockwise.
     */
    public RgbImage oriented(int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return this;
        }
        boolean swap = orientation >= 5;
        int w = swap ? height : width;
        int h = swap ? width : height;
        byte[] out = new byte[rgb.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // the stored pixel that lands at (x, y) of the upright image
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> {
                        sx = width - 1 - x;
                        sy = y;
                    }
                    case 3 -> {
                        sx = width - 1 - x;
                        sy = height - 1 - y;
                    }
                    case 4 -> {
                        sx = x;
                        sy = height - 1 - y;
                    }
                    case 5 -> {
                        sx = y;
                        sy = x;
                    }
                    case 6 -> {
                        sx = y;
                        sy = height - 1 - x;
                    }
                    case 7 -> {
                        sx = width - 1 - y;
                        sy = height - 1 - x;
                    }
                    default -> { // 8
                        sx = width - 1 - y;
                        sy = x;
                    }
                }
                System.arraycopy(rgb, 3 * (sy * width + sx), out, 3 * (y * w + x), 3);
            }
        }
        return new RgbImage(w, h, out);
    }

    /**
     * Scaled to {@code w} x {@code h}, bilinear with half-pixel centres (see the class comment).
     */
    public RgbImage resized(int w, int h) {
        if (w == width && h == height) {
            return this;
        }
        int[] x0 = new int[w];
        int[] x1 = new int[w];
        float[] fx = new float[w];
        axis(width, w, x0, x1, fx);
        int[] y0 = new int[h];
        int[] y1 = new int[h];
        float[] fy = new float[h];
        axis(height, h, y0, y1, fy);
        byte[] out = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            int top = 3 * y0[y] * width;
            int bottom = 3 * y1[y] * width;
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int left = 3 * x0[x] + c;
                    int right = 3 * x1[x] + c;
                    float upper = lerp(rgb[top + left], rgb[top + right], fx[x]);
                    float lower = lerp(rgb[bottom + left], rgb[bottom + right], fx[x]);
                    float value = upper + (lower - upper) * fy[y];
                    out[3 * (y * w + x) + c] = (byte) Math.min(255, Math.round(value));
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /** For each destination index: the two source indices it lies between and the weight. */
    private static void axis(int source, int target, int[] lower, int[] upper, float[] weight) {
        double scale = (double) source / target;
        for (int i = 0; i < target; i++) {
            double s = Math.max(0, (i + 0.5) * scale - 0.5);
            int low = Math.min((int) s, source - 1);
            lower[i] = low;
            upper[i] = Math.min(low + 1, source - 1);
            weight[i] = (float) (s - low);
        }
    }

    private static float lerp(byte a, byte b, float t) {
        int ia = a & 0xFF;
        return ia + ((b & 0xFF) - ia) * t;
    }
}
