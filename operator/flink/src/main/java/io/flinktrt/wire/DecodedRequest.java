package io.flinktrt.wire;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A request that passed every check: its id, metadata and one buffer per model input, in the
 * model's input order, each holding exactly one sample.
 */
record DecodedRequest(String id, Map<String, String> metadata, ByteBuffer[] inputs) {}
