package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.ByteBuffer;

/**
 * The rows of an image input that a runner decodes on its device (TensorRT: nvJPEG, resized with
 * NPP, written straight into the engine's input), for the buffers of a runner that can: a caller
 * hands over a row's JPEG instead of writing its pixels. The input is uint8 {@code [H, W, 3]} (the
 * resized RGB pixels) or float32 {@code [3, H, W]} ((pixel / 255 - mean) / std per channel).
 */
@PublicEvolving
public interface DeviceImages {

    /**
     * Row {@code row}'s JPEG, decoded, resized (bilinear, half-pixel centres), turned upright as
     * its EXIF {@code orientation} (1 to 8) says and written into the row when the batch runs.
     * Takes baseline 8-bit JPEGs of one or three components; write the pixels of any other image
     * yourself. The buffer must not change until the batch has run.
     */
    void put(int row, ByteBuffer jpeg, int orientation);

    /** After the batch ran: why row {@code row}'s JPEG could not be decoded, or null. */
    String failure(int row);
}
