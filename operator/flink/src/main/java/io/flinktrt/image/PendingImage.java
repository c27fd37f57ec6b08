package io.flinktrt.image;

import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.operator.RowRejectedException;

import org.apache.flink.annotation.Internal;

import java.nio.ByteBuffer;

/**
 * An encoded image waiting for its batch. Its header is checked once, on a copy thread, as its row
 * is written; then it is either handed to the GPU as it is (a JPEG the runner decodes) or decoded
 * once on the CPU (a retried batch rewrites the row from the same pixels).
 */
@Internal
public final class PendingImage {

    private ByteBuffer encoded;
    private ImageHeader header;
    private RgbImage pixels;
    private RequestRejectedException rejection;

    public PendingImage(ByteBuffer encoded) {
        this.encoded = encoded;
    }

    /** The checked header, read on first use; a refused image fails every call. */
    synchronized ImageHeader header(ImageDecoder decoder) {
        if (header == null && rejection == null) {
            try {
                header = decoder.header(encoded);
            } catch (RequestRejectedException e) {
                rejection = e;
                encoded = null;
            }
        }
        throwIfRejected();
        return header;
    }

    /** The encoded bytes, for a decoder on the GPU; after {@link #header}. */
    synchronized ByteBuffer encoded() {
        return encoded;
    }

    /** The pixels at the input's size, decoding on first use; a refused image fails every call. */
    public synchronized RgbImage pixels(ImageDecoder decoder) {
        ImageHeader checked = header(decoder);
        if (pixels == null && rejection == null) {
            try {
                pixels = decoder.decode(encoded, checked);
            } catch (RequestRejectedException e) {
                rejection = e;
            }
            encoded = null; // the pixels or the rejection are all that is needed again
        }
        throwIfRejected();
        return pixels;
    }

    private void throwIfRejected() {
        if (rejection != null) {
            throw new RowRejectedException(rejection);
        }
    }
}
