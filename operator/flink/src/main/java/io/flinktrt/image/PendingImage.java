package io.flinktrt.image;

import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.operator.RowRejectedException;

import org.apache.flink.annotation.Internal;

import java.nio.ByteBuffer;

/**
 * An encoded image waiting for its batch; decoded once, on a copy thread, as its row is written (a
 * retried batch rewrites the row from the same pixels).
 */
@Internal
public final class PendingImage {

    private ByteBuffer encoded;
    private RgbImage pixels;
    private RequestRejectedException rejection;

    public PendingImage(ByteBuffer encoded) {
        this.encoded = encoded;
    }

    /** The pixels at the input's size, decoding on first use; a refused image fails every call. */
    public synchronized RgbImage pixels(ImageDecoder decoder) {
        if (pixels == null && rejection == null) {
            try {
                pixels = decoder.decode(encoded);
            } catch (RequestRejectedException e) {
                rejection = e;
            }
            encoded = null; // the pixels or the rejection are all that is needed again
        }
        if (rejection != null) {
            throw new RowRejectedException(rejection);
        }
        return pixels;
    }
}
