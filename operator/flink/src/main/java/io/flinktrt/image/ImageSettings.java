package io.flinktrt.image;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.List;

/**
 * How requests carrying an encoded image become a model input.
 *
 * @param input the model input the image is written into; null: the model's only input
 * @param mean per channel (R, G, B), subtracted from pixels scaled to 0..1 for a float input
 * @param std per channel (R, G, B), what the difference is divided by for a float input
 * @param maxPixels an image whose header declares more pixels is refused as IMAGE_TOO_LARGE
 */
@PublicEvolving
public record ImageSettings(String input, List<Float> mean, List<Float> std, long maxPixels)
        implements Serializable {

    /** ImageNet's mean and std, what torchvision's models were trained with. */
    public static final List<Float> IMAGENET_MEAN = List.of(0.485f, 0.456f, 0.406f);

    public static final List<Float> IMAGENET_STD = List.of(0.229f, 0.224f, 0.225f);

    /** 40 megapixels: the largest phone photos; 120 MB once decoded. */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

    public static final ImageSettings DEFAULT =
            new ImageSettings(null, IMAGENET_MEAN, IMAGENET_STD, DEFAULT_MAX_PIXELS);

    public ImageSettings {
        if (mean.size() != 3 || std.size() != 3) {
            throw new IllegalArgumentException(
                    "Image mean and std take three values (R, G, B); got " + mean + " and " + std);
        }
        if (std.stream().anyMatch(s -> s <= 0) || maxPixels <= 0) {
            throw new IllegalArgumentException(
                    "Image std values and max pixels must be positive; got "
                            + std
                            + " and "
                            + maxPixels);
        }
        mean = List.copyOf(mean);
        std = List.copyOf(std);
    }
}
