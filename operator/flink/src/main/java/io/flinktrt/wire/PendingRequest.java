package io.flinktrt.wire;

/** A checked request waiting for its batch: its decoded inputs and when it arrived. */
record PendingRequest(DecodedRequest request, long arrivalNanos) {}
