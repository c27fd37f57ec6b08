package io.flinktrt.wire;

import io.flinktrt.image.PendingImage;
import io.flinktrt.text.PendingText;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A request that passed every check: its id, metadata and one buffer per model input, in the
 * model's input order, each holding exactly one sample; or, for a text request, its text (inputs
 * null) to be tokenized into the inputs as its row is written; or, for an image request, its
 * encoded image (inputs null) to be decoded into the image input as its row is written. For a model
 * whose sequence length varies, a tensor request may be shorter than the longest length: {@code
 * positions} is its length (its sequence inputs hold that many positions), 0 for every other
 * request.
 */
record DecodedRequest(
        String id,
        Map<String, String> metadata,
        ByteBuffer[] inputs,
        PendingText text,
        PendingImage image,
        int positions) {}
