package io.flinktrt.image;

import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.Internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What an encoded image's header declares, read without decoding anything: a decompression bomb (a
 * small file declaring 65000 x 65000 pixels) is refused before a pixel is allocated, a file cut
 * short (no JPEG EOI marker after the frame header, or no PNG IEND chunk at its end) is refused
 * because decoders fill the missing rows silently, and formats we do not decode (CMYK, 12-bit,
 * arithmetic-coded or lossless JPEG, 16-bit PNG) are named as such.
 *
 * @param orientation the EXIF orientation (1 to 8; 1: stored upright), 1 where there is none
 */
@Internal
public record ImageHeader(
        Format format,
        int width,
        int height,
        int components,
        boolean progressive,
        int orientation) {

    /** The encodings a request's image may have. */
    public enum Format {
        JPEG,
        PNG
    }

    private static final long PNG_SIGNATURE = 0x89504E470D0A1A0AL;
    private static final int EXIF_ORIENTATION = 0x0112;

    /** Reads and checks the header of {@code image}; {@code maxPixels} bounds width x height. */
    public static ImageHeader read(ByteBuffer image, long maxPixels)
            throws RequestRejectedException {
        ByteBuffer data = image.slice().order(ByteOrder.BIG_ENDIAN);
        if (data.remaining() < 8) {
            throw invalid("it has only " + data.remaining() + " bytes");
        }
        ImageHeader header;
        if ((data.getShort(0) & 0xFFFF) == 0xFFD8) {
            header = readJpeg(data);
        } else if (data.getLong(0) == PNG_SIGNATURE) {
            header = readPng(data);
        } else {
            throw new RequestRejectedException(
                    ErrorCode.UNSUPPORTED_IMAGE, "The image is neither JPEG nor PNG.");
        }
        if (header.width <= 0 || header.height <= 0) {
            throw invalid(
                    "its header declares " + header.width + " x " + header.height + " pixels");
        }
        if ((long) header.width * header.height > maxPixels) {
            throw new RequestRejectedException(
                    ErrorCode.IMAGE_TOO_LARGE,
                    "The image declares "
                            + header.width
                            + " x "
                            + header.height
                            + " pixels, more than the "
                            + maxPixels
                            + " taken (inference.max-image-pixels).");
        }
        return header;
    }

    /**
     * Walks the JPEG's marker segments up to the first scan: the frame header (SOF) gives size,
     * components and coding, an APP1 Exif segment the orientation, and the scan header must be
     * whole (the GPU decoder does not check it: nvJPEG decodes a damaged file into garbage).
     */
    private static ImageHeader readJpeg(ByteBuffer data) throws RequestRejectedException {
        int orientation = 1;
        int position = 2;
        ImageHeader frame = null;
        while (true) {
            if (position + 4 > data.limit() || (data.get(position) & 0xFF) != 0xFF) {
                throw invalid(
                        frame == null
                                ? "its JPEG header has no frame header (SOF) before its data"
                                : "its JPEG header has no scan (SOS) after its frame header");
            }
            int marker = data.get(position + 1) & 0xFF;
            if (marker == 0xFF) {
                position++; // fill byte
                continue;
            }
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
                position += 2; // TEM, RSTn, SOI: markers without a segment
                continue;
            }
            int length = data.getShort(position + 2) & 0xFFFF;
            int segment = position + 4;
            if (length < 2 || segment + length - 2 > data.limit()) {
                throw invalid("a JPEG segment's length runs past the end of the file");
            }
            if (marker == 0xE1) {
                orientation = exifOrientation(data.slice(segment, length - 2), orientation);
            } else if (isFrameHeader(marker) && frame == null) {
                if (!hasEndOfImage(data, segment)) {
                    throw invalid("it has no JPEG end-of-image marker: it was cut short");
                }
                frame = frame(data, marker, segment, length, orientation);
            } else if (marker == 0xDA) {
                if (frame == null) {
                    throw invalid("its JPEG scan starts before a frame header (SOF)");
                }
                int scanComponents = data.get(segment) & 0xFF;
                if (scanComponents < 1
                        || scanComponents > frame.components
                        || length != 6 + 2 * scanComponents) {
                    throw invalid("its JPEG scan header (SOS) is malformed");
                }
                checkEntropyCodedData(data, segment + length - 2);
                return frame;
            }
            position = segment + length - 2;
        }
    }

    /** SOF0 to SOF15 but for DHT (C4), JPG (C8) and DAC (CC), which share the range. */
    private static boolean isFrameHeader(int marker) {
        return marker >= 0xC0
                && marker <= 0xCF
                && marker != 0xC4
                && marker != 0xC8
                && marker != 0xCC;
    }

    private static ImageHeader frame(
            ByteBuffer data, int marker, int segment, int length, int orientation)
            throws RequestRejectedException {
        if (length < 8) {
            throw invalid("its JPEG frame header is " + length + " bytes long");
        }
        int precision = data.get(segment) & 0xFF;
        int height = data.getShort(segment + 1) & 0xFFFF;
        int width = data.getShort(segment + 3) & 0xFFFF;
        int components = data.get(segment + 5) & 0xFF;
        // SOF0 baseline, SOF1 extended, SOF2 progressive: Huffman-coded, what cameras make
        if (marker > 0xC2) {
            throw unsupported(
                    "lossless, hierarchical or arithmetic-coded JPEG (SOF marker 0x"
                            + Integer.toHexString(marker).toUpperCase()
                            + ")");
        }
        if (precision != 8) {
            throw unsupported(precision + "-bit JPEG; 8-bit is taken");
        }
        if (components == 4) {
            throw unsupported("CMYK or YCCK JPEG (4 components); RGB and grayscale are taken");
        }
        if (components != 1 && components != 3) {
            throw unsupported("JPEG of " + components + " components");
        }
        return new ImageHeader(Format.JPEG, width, height, components, marker == 0xC2, orientation);
    }

    /**
     * The entropy-coded data, from {@code start} to the end-of-image marker, holds a 0xFF only as a
     * stuffed FF00, a restart marker, fill, or a marker between scans (C0-FE): FF followed by 02-BF
     * is damage that ImageIO refuses but nvJPEG decodes into wrong pixels. Eight bytes at a time,
     * so that a 1080p photo costs microseconds.
     */
    private static void checkEntropyCodedData(ByteBuffer data, int start)
            throws RequestRejectedException {
        int at = start;
        int end = data.limit() - 1;
        while (at < end) {
            if (at + 8 <= end) {
                long inverted = ~data.getLong(at); // a byte 0xFF is a zero byte here
                if (((inverted - 0x0101010101010101L) & ~inverted & 0x8080808080808080L) == 0) {
                    at += 8;
                    continue;
                }
            }
            if ((data.get(at) & 0xFF) == 0xFF) {
                int next = data.get(at + 1) & 0xFF;
                if (next == 0xD9) {
                    return; // end of image: what follows is a trailer
                }
                if (next >= 0x02 && next <= 0xBF) {
                    throw invalid(
                            "its JPEG data holds FF "
                                    + Integer.toHexString(next).toUpperCase()
                                    + ", which no JPEG has: the file is damaged");
                }
            }
            at++;
        }
    }

    /**
     * Whether the end-of-image marker FFD9 comes after the frame header: at the end, or before data
     * that phones append (Samsung's trailer). Looked for from the end, so a whole file costs only
     * its trailer. Before the frame header it could be an EXIF thumbnail's; after it, the
     * entropy-coded data cannot hold it (a 0xFF there is followed by 00 or a restart marker).
     */
    private static boolean hasEndOfImage(ByteBuffer data, int frameHeader) {
        for (int at = data.limit() - 2; at > frameHeader; at--) {
            if ((data.getShort(at) & 0xFFFF) == 0xFFD9) {
                return true;
            }
        }
        return false;
    }

    /**
     * The Orientation tag of IFD0 in an APP1 Exif segment ({@code Exif\0\0}, then a TIFF header); a
     * segment that is not Exif or is malformed leaves {@code otherwise}: a camera's broken metadata
     * does not make its photo unreadable.
     */
    private static int exifOrientation(ByteBuffer app1, int otherwise) {
        if (app1.remaining() < 14 || app1.getInt(0) != 0x45786966 || app1.getShort(4) != 0) {
            return otherwise;
        }
        ByteBuffer tiff = app1.slice(6, app1.remaining() - 6);
        int order = tiff.getShort(0) & 0xFFFF;
        if (order != 0x4949 && order != 0x4D4D) {
            return otherwise;
        }
        tiff.order(order == 0x4949 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        long ifd = tiff.getInt(4) & 0xFFFFFFFFL;
        if (ifd + 2 > tiff.limit()) {
            return otherwise;
        }
        int entries = tiff.getShort((int) ifd) & 0xFFFF;
        for (int i = 0; i < entries; i++) {
            int entry = (int) ifd + 2 + 12 * i;
            if (entry + 12 > tiff.limit()) {
                return otherwise;
            }
            if ((tiff.getShort(entry) & 0xFFFF) == EXIF_ORIENTATION) {
                int value = tiff.getShort(entry + 8) & 0xFFFF; // a SHORT, first in its field
                return value >= 1 && value <= 8 ? value : otherwise;
            }
        }
        return otherwise;
    }

    /** The IHDR chunk, which the PNG format puts first; the IEND chunk must close the file. */
    private static ImageHeader readPng(ByteBuffer data) throws RequestRejectedException {
        if (data.limit() < 8 + 25 + 12
                || data.getInt(12) != 0x49484452 // IHDR
                || data.getInt(data.limit() - 8) != 0x49454E44) { // IEND
            throw invalid("it is not a whole PNG (no IHDR chunk first or no IEND chunk last)");
        }
        int width = data.getInt(16);
        int height = data.getInt(20);
        int bitDepth = data.get(24) & 0xFF;
        int colourType = data.get(25) & 0xFF;
        if (bitDepth > 8) {
            throw unsupported(bitDepth + "-bit PNG; 8 bits a channel at most are taken");
        }
        int components =
                switch (colourType) {
                    case 0 -> 1; // grayscale
                    case 4 -> 2; // grayscale and alpha
                    case 6 -> 4; // RGB and alpha
                    default -> 3; // RGB, or a palette of RGB colours
                };
        return new ImageHeader(Format.PNG, width, height, components, false, 1);
    }

    private static RequestRejectedException invalid(String why) {
        return new RequestRejectedException(
                ErrorCode.INVALID_IMAGE, "The image is corrupt or truncated: " + why + ".");
    }

    private static RequestRejectedException unsupported(String what) {
        return new RequestRejectedException(
                ErrorCode.UNSUPPORTED_IMAGE, "The image is " + what + ", which is not decoded.");
    }
}
