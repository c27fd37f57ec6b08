package io.flinktrt.image;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.operator.RowRejectedException;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageDecoderTest {

    private static ModelSignature frames(int height, int width) {
        return new ModelSignature(
                "frames",
                "",
                List.of(new TensorSpec("frames", DataType.UINT8, new long[] {height, width, 3})),
                List.of(new TensorSpec("mean", DataType.FLOAT32, new long[] {3})),
                8);
    }

    private static final ImageDecoder DECODER =
            ImageDecoder.open(ImageSettings.DEFAULT, frames(224, 224));

    @Test
    void aPhotoOfTheInputsSizeIsItsDecodedPixels() throws Exception {
        byte[] jpeg = TestImages.bytes("photo-224-07.jpg");
        Raster raster = ImageIO.read(new ByteArrayInputStream(jpeg)).getRaster();
        byte[] rgb = new PendingImage(ByteBuffer.wrap(jpeg)).pixels(DECODER).rgb();
        int[] expected = raster.getPixels(0, 0, 224, 224, (int[]) null);
        assertThat(rgb).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(rgb[i] & 0xFF).as("sample %d", i).isEqualTo(expected[i]);
        }
    }

    @Test
    void aLargePhotoIsShrunkBilinearlyWithHalfPixelCentres() throws Exception {
        // 1920 x 1080 to 480 x 270 is exactly 4:1: each pixel is the mean of the middle 2 x 2 of
        // its 4 x 4 block (source x' = 4x + 1.5)
        byte[] jpeg = TestImages.bytes("photo-1080p-2.jpg");
        Raster raster = ImageIO.read(new ByteArrayInputStream(jpeg)).getRaster();
        ImageDecoder quarter = ImageDecoder.open(ImageSettings.DEFAULT, frames(270, 480));
        byte[] rgb = new PendingImage(ByteBuffer.wrap(jpeg)).pixels(quarter).rgb();
        for (int y = 0; y < 270; y += 13) {
            for (int x = 0; x < 480; x += 11) {
                for (int c = 0; c < 3; c++) {
                    int sum = 0;
                    for (int dy = 1; dy <= 2; dy++) {
                        for (int dx = 1; dx <= 2; dx++) {
                            sum += raster.getSample(4 * x + dx, 4 * y + dy, c);
                        }
                    }
                    assertThat(rgb[3 * (480 * y + x) + c] & 0xFF)
                            .as("(%d, %d) channel %d", x, y, c)
                            .isBetween((sum - 2) / 4, (sum + 5) / 4); // float rounding of .5
                }
            }
        }
    }

    @Test
    void exifOrientationIsHonouredLikeThePhotoStoredUpright() throws Exception {
        byte[] jpeg = TestImages.bytes("exif-rotated.jpg");
        ImageHeader header = ImageHeader.read(ByteBuffer.wrap(jpeg), 1 << 30);
        assertThat(header.orientation()).isEqualTo(6);
        assertThat(header.width()).isEqualTo(200); // stored on its side, 200 x 300
        ImageDecoder decoder = ImageDecoder.open(ImageSettings.DEFAULT, frames(200, 300));
        byte[] rotated = new PendingImage(ByteBuffer.wrap(jpeg)).pixels(decoder).rgb();
        byte[] upright = new PendingImage(TestImages.buffer("upright.png")).pixels(decoder).rgb();
        int[] stored =
                ImageIO.read(new ByteArrayInputStream(jpeg))
                        .getRaster()
                        .getPixels(0, 0, 200, 300, (int[]) null);
        byte[] storedBytes = new byte[stored.length];
        for (int i = 0; i < stored.length; i++) {
            storedBytes[i] = (byte) stored[i];
        }
        byte[] ignoringExif = new RgbImage(200, 300, storedBytes).resized(300, 200).rgb();
        // JPEG's loss makes a small difference; a wrong orientation a large one
        assertThat(meanDifference(rotated, upright)).isLessThan(3);
        assertThat(meanDifference(ignoringExif, upright))
                .isGreaterThan(5 * meanDifference(rotated, upright));
    }

    @Test
    void grayscaleIsReplicatedIntoRedGreenAndBlueWithoutAColourConversion() throws Exception {
        byte[] jpeg = TestImages.bytes("grayscale.jpg");
        BufferedImage gray = ImageIO.read(new ByteArrayInputStream(jpeg));
        assertThat(gray.getRaster().getNumBands()).isEqualTo(1);
        byte[] rgb = new PendingImage(ByteBuffer.wrap(jpeg)).pixels(DECODER).rgb();
        for (int p = 0; p < 224 * 224; p++) {
            int sample = gray.getRaster().getSample(p % 224, p / 224, 0);
            assertThat(new int[] {rgb[3 * p] & 0xFF, rgb[3 * p + 1] & 0xFF, rgb[3 * p + 2] & 0xFF})
                    .as("pixel %d", p)
                    .containsOnly(sample);
        }
        byte[] png = new PendingImage(TestImages.buffer("grayscale.png")).pixels(DECODER).rgb();
        assertThat(meanDifference(rgb, png)).isLessThan(2);
    }

    @Test
    void aProgressiveJpegDecodesLikeABaselineOne() throws Exception {
        assertThat(ImageHeader.read(TestImages.buffer("progressive.jpg"), 1 << 30).progressive())
                .isTrue();
        assertThat(ImageHeader.read(TestImages.buffer("photo-224-00.jpg"), 1 << 30).progressive())
                .isFalse();
        byte[] jpeg = TestImages.bytes("progressive.jpg");
        Raster raster = ImageIO.read(new ByteArrayInputStream(jpeg)).getRaster();
        byte[] rgb = new PendingImage(ByteBuffer.wrap(jpeg)).pixels(DECODER).rgb();
        assertThat(rgb[3 * (224 * 100 + 50) + 1] & 0xFF).isEqualTo(raster.getSample(50, 100, 1));
    }

    @Test
    void dataAPhoneAppendsAfterTheEndOfImageIsNoTruncation() throws Exception {
        byte[] jpeg = TestImages.bytes("photo-224-03.jpg");
        byte[] trailer = "SEFHSamsung trailer data".getBytes(StandardCharsets.US_ASCII);
        byte[] withTrailer = Arrays.copyOf(jpeg, jpeg.length + trailer.length);
        System.arraycopy(trailer, 0, withTrailer, jpeg.length, trailer.length);
        assertThat(new PendingImage(ByteBuffer.wrap(withTrailer)).pixels(DECODER).rgb())
                .isEqualTo(new PendingImage(ByteBuffer.wrap(jpeg)).pixels(DECODER).rgb());
    }

    @Test
    void eachBadImageIsRefusedWithItsOwnCode() {
        assertRefused("truncated.jpg", ErrorCode.INVALID_IMAGE, "cut short");
        assertRefused("corrupt.jpg", ErrorCode.INVALID_IMAGE, "scan header (SOS) is malformed");
        assertRefused("cmyk.jpg", ErrorCode.UNSUPPORTED_IMAGE, "CMYK");
        assertRefused("gray16.png", ErrorCode.UNSUPPORTED_IMAGE, "16-bit PNG");
        assertRefused("not-an-image.jpg", ErrorCode.UNSUPPORTED_IMAGE, "neither JPEG nor PNG");
        assertRefused("bomb.jpg", ErrorCode.IMAGE_TOO_LARGE, "65000 x 65000");
    }

    @Test
    void damageInsideTheEntropyCodedDataIsRefusedBeforeDecoding() throws Exception {
        byte[] jpeg = TestImages.bytes("photo-224-00.jpg");
        int scan = 0;
        while (!((jpeg[scan] & 0xFF) == 0xFF && (jpeg[scan + 1] & 0xFF) == 0xDA)) {
            scan++;
        }
        jpeg[scan + 300] = (byte) 0xFF; // a marker no JPEG has, where a bit flip put it
        jpeg[scan + 301] = 0x37;
        // the GPU decoder gets a file only after its header passed: ImageHeader itself must refuse
        assertThatThrownBy(() -> ImageHeader.read(ByteBuffer.wrap(jpeg), 40_000_000L))
                .isInstanceOf(RequestRejectedException.class)
                .hasMessageContaining("FF 37, which no JPEG has")
                .extracting(e -> ((RequestRejectedException) e).code())
                .isEqualTo(ErrorCode.INVALID_IMAGE);
    }

    @Test
    void theBombIsRefusedFromItsHeaderWithoutDecoding() throws Exception {
        // the same bytes with a small limit on a photo that fits: the header alone decides
        assertThatThrownBy(() -> ImageHeader.read(TestImages.buffer("bomb.jpg"), 40_000_000L))
                .isInstanceOf(RequestRejectedException.class)
                .extracting(e -> ((RequestRejectedException) e).code())
                .isEqualTo(ErrorCode.IMAGE_TOO_LARGE);
        ImageDecoder small =
                ImageDecoder.open(
                        new ImageSettings(
                                null,
                                ImageSettings.IMAGENET_MEAN,
                                ImageSettings.IMAGENET_STD,
                                224 * 223),
                        frames(224, 224));
        assertThatThrownBy(
                        () -> new PendingImage(TestImages.buffer("photo-224-01.jpg")).pixels(small))
                .extracting(e -> ((RowRejectedException) e).rejection().code())
                .isEqualTo(ErrorCode.IMAGE_TOO_LARGE);
    }

    private static void assertRefused(String name, ErrorCode code, String why) {
        assertThatThrownBy(() -> new PendingImage(TestImages.buffer(name)).pixels(DECODER))
                .as(name)
                .isInstanceOf(RowRejectedException.class)
                .hasMessageContaining(why)
                .extracting(e -> ((RowRejectedException) e).rejection().code())
                .isEqualTo(code);
    }

    private static double meanDifference(byte[] a, byte[] b) {
        long sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
        }
        return (double) sum / a.length;
    }
}
