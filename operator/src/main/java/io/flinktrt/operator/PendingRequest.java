package io.flinktrt.operator;

import io.flinktrt.schema.InferenceOutcome;

import org.apache.flink.streaming.api.functions.async.ResultFuture;

/** A checked request waiting for its batch, with the future Flink waits on. */
record PendingRequest(DecodedRequest request, byte[] payload, ResultFuture<InferenceOutcome> future, long arrivalNanos) {}
