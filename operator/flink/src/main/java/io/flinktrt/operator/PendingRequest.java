package io.flinktrt.operator;

/** A checked request waiting for its batch: its decoded inputs and when it arrived. */
record PendingRequest(DecodedRequest request, long arrivalNanos) {}
