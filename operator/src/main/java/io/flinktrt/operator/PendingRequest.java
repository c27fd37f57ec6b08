package io.flinktrt.operator;

/** A checked request waiting for its batch: its decoded inputs, its bytes (for the dead-letter topic), when it arrived. */
record PendingRequest(DecodedRequest request, byte[] payload, long arrivalNanos) {}
