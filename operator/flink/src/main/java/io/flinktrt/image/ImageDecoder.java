package io.flinktrt.image;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.DeviceImages;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.operator.RowRejectedException;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.Internal;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.Optional;

/**
 * Decodes encoded images on the CPU (javax.imageio) into a model's image input: the header is
 * checked first ({@link ImageHeader}), then the image is decoded, turned upright as its EXIF
 * orientation says, grayscale replicated into R, G and B, resized to the input's size ({@link
 * RgbImage#resized}) and written as uint8 {@code [H, W, 3]} or as float32 {@code [3, H, W]} of
 * (pixel / 255 - mean) / std. An alpha channel is dropped. Thread-safe: the scheduler's copy
 * threads decode rows at once.
 */
@Internal
public final class ImageDecoder {

    static {
        ImageIO.setUseCache(false); // decode in memory, never through temporary files
    }

    private final TensorSpec spec;
    private final int input;
    private final int width;
    private final int height;
    private final boolean channelsFirst;
    private final float[] mean = new float[3];
    private final float[] std = new float[3];
    private final long maxPixels;

    private ImageDecoder(ImageSettings settings, ModelSignature signature, int input) {
        this.input = input;
        this.spec = signature.inputs().get(input);
        this.channelsFirst = spec.dtype() == DataType.FLOAT32;
        long[] shape = spec.sampleShape();
        this.height = (int) (channelsFirst ? shape[1] : shape[0]);
        this.width = (int) (channelsFirst ? shape[2] : shape[1]);
        for (int c = 0; c < 3; c++) {
            mean[c] = settings.mean().get(c);
            std[c] = settings.std().get(c);
        }
        this.maxPixels = settings.maxPixels();
    }

    /**
     * The decoder for {@code signature}'s image input: the one {@code settings} names, else the
     * model's only input; null where no input was named and the model has none of an image's shape
     * (then requests carry tensors only).
     */
    public static ImageDecoder open(ImageSettings settings, ModelSignature signature) {
        if (settings.input() == null) {
            boolean one = signature.inputs().size() == 1 && isImage(signature.inputs().get(0));
            return one ? new ImageDecoder(settings, signature, 0) : null;
        }
        int index = signature.inputIndex(settings.input());
        if (index < 0) {
            throw new IllegalArgumentException(
                    "inference.image-input names '"
                            + settings.input()
                            + "', which is not an input of the model: "
                            + signature.inputs());
        }
        if (!isImage(signature.inputs().get(index))) {
            throw new IllegalArgumentException(
                    "An image input is uint8 [batch, height, width, 3] or float32 [batch, 3,"
                            + " height, width]; "
                            + signature.inputs().get(index)
                            + " is neither.");
        }
        return new ImageDecoder(settings, signature, index);
    }

    private static boolean isImage(TensorSpec spec) {
        long[] shape = spec.sampleShape();
        return shape.length == 3
                && ((spec.dtype() == DataType.UINT8 && shape[2] == 3)
                        || (spec.dtype() == DataType.FLOAT32 && shape[0] == 3));
    }

    /** {@code encoded}'s header, checked: a corrupt, unsupported or too large image is refused. */
    ImageHeader header(ByteBuffer encoded) throws RequestRejectedException {
        return ImageHeader.read(encoded, maxPixels);
    }

    /**
     * Decodes {@code encoded}, whose checked header is {@code header}, and resizes it to the
     * model's input size; an image that fails to decode is refused with its code.
     */
    RgbImage decode(ByteBuffer encoded, ImageHeader header) throws RequestRejectedException {
        BufferedImage image = read(encoded, header);
        if (image.getWidth() != header.width() || image.getHeight() != header.height()) {
            throw new RequestRejectedException(
                    ErrorCode.INVALID_IMAGE,
                    "The image decoded to "
                            + image.getWidth()
                            + " x "
                            + image.getHeight()
                            + " pixels; its header declares "
                            + header.width()
                            + " x "
                            + header.height()
                            + ".");
        }
        return rgb(image).oriented(header.orientation()).resized(width, height);
    }

    private static BufferedImage read(ByteBuffer encoded, ImageHeader header)
            throws RequestRejectedException {
        byte[] bytes = new byte[encoded.remaining()];
        encoded.duplicate().get(bytes);
        Iterator<ImageReader> readers =
                ImageIO.getImageReadersByFormatName(header.format().name().toLowerCase());
        if (!readers.hasNext()) {
            throw new IllegalStateException(
                    "This JRE has no ImageIO reader for " + header.format());
        }
        ImageReader reader = readers.next();
        try (ImageInputStream in =
                ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            return reader.read(0);
        } catch (IOException | RuntimeException e) {
            // ImageIO's decoders throw unchecked exceptions too on some corrupt data
            throw new RequestRejectedException(
                    ErrorCode.INVALID_IMAGE, "The image could not be decoded: " + e + ".");
        } finally {
            reader.dispose();
        }
    }

    /**
     * The pixels as 8-bit RGB, read from the raster itself: {@code getRGB} would convert a
     * grayscale JPEG's colour space (linear gray to sRGB) and change its values.
     */
    private static RgbImage rgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[3 * w * h];
        Raster raster = image.getRaster();
        if (image.getColorModel() instanceof IndexColorModel) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = image.getRGB(x, y); // a palette of sRGB colours: no conversion
                    int at = 3 * (y * w + x);
                    rgb[at] = (byte) (argb >> 16);
                    rgb[at + 1] = (byte) (argb >> 8);
                    rgb[at + 2] = (byte) argb;
                }
            }
            return new RgbImage(w, h, rgb);
        }
        int bands = raster.getNumBands();
        int bits = raster.getSampleModel().getSampleSize(0);
        int max = (1 << bits) - 1; // grayscale PNGs of 1, 2 or 4 bits scale up to 0..255
        int[] row = new int[w * bands];
        for (int y = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, row);
            for (int x = 0; x < w; x++) {
                int at = 3 * (y * w + x);
                for (int c = 0; c < 3; c++) {
                    int sample = row[x * bands + (bands < 3 ? 0 : c)];
                    rgb[at + c] = (byte) (max == 255 ? sample : sample * 255 / max);
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /**
     * Writes {@code image} into row {@code row} of the input: hands a baseline JPEG to the runner
     * where it decodes JPEGs on its GPU, else decodes it here. Throws {@link RowRejectedException}
     * for a corrupt, unsupported or too large image.
     */
    public void putRow(PendingImage image, BatchBuffers buffers, int row) {
        ImageHeader header = image.header(this);
        if (header.format() == ImageHeader.Format.JPEG && !header.progressive()) {
            Optional<DeviceImages> device = buffers.deviceImages(input, mean, std);
            if (device.isPresent()) {
                device.get().put(row, image.encoded(), header.orientation());
                return;
            }
        }
        putRow(image.pixels(this), buffers, row);
    }

    /**
     * After the batch ran: refuses row {@code row} where its JPEG could not be decoded on the GPU
     * (a JPEG whose header passed the checks but whose data nvJPEG refused).
     */
    public void checkDecoded(BatchBuffers buffers, int row) {
        Optional<String> failure =
                buffers.deviceImages(input, mean, std).map(device -> device.failure(row));
        if (failure.isPresent()) {
            throw new RowRejectedException(
                    new RequestRejectedException(
                            ErrorCode.INVALID_IMAGE,
                            "The image could not be decoded on the GPU: " + failure.get()));
        }
    }

    /** What a row of a batch of images is read back as, once its image is known decoded. */
    @FunctionalInterface
    public interface RowReader<OUT> {
        OUT read(BatchBuffers buffers, int row);
    }

    /**
     * A scheduler's codec for records that are an image each: rows written by {@link #putRow} on
     * the copy threads, read by {@code reader} after {@link #checkDecoded}.
     */
    public <OUT> RowCodec<PendingImage, OUT> rows(RowReader<OUT> reader) {
        return new RowCodec<>() {
            @Override
            public void putRow(PendingImage image, BatchBuffers buffers, int row) {
                ImageDecoder.this.putRow(image, buffers, row);
            }

            @Override
            public boolean putRowComputes() {
                return true;
            }

            @Override
            public OUT readRow(PendingImage image, BatchBuffers buffers, int row, BatchInfo batch) {
                checkDecoded(buffers, row);
                return reader.read(buffers, row);
            }
        };
    }

    /** Writes {@code image} (already at the input's size) into row {@code row} of the input. */
    private void putRow(RgbImage image, BatchBuffers buffers, int row) {
        ByteBuffer buffer = buffers.input(input);
        int start = row * spec.sampleBytes();
        byte[] rgb = image.rgb();
        if (!channelsFirst) {
            buffer.put(start, rgb);
            return;
        }
        int plane = width * height;
        for (int c = 0; c < 3; c++) {
            float scale = 1f / (255f * std[c]);
            float shift = mean[c] / std[c];
            for (int p = 0; p < plane; p++) {
                buffer.putFloat(
                        start + 4 * (c * plane + p), (rgb[3 * p + c] & 0xFF) * scale - shift);
            }
        }
    }
}
