package io.flinktrt.operator;

import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;

import java.nio.ByteBuffer;

/** Builds the failure outcomes that go to the dead-letter topic. */
final class Outcomes {

    private Outcomes() {}

    static InferenceOutcome failure(String id, ErrorCode code, String message, String model, byte[] payload) {
        return InferenceOutcome.newBuilder()
                .setOutcome(InferenceFailure.newBuilder()
                        .setId(id)
                        .setCode(code)
                        .setMessage(message)
                        .setModel(model)
                        .setPayload(ByteBuffer.wrap(payload))
                        .build())
                .build();
    }
}
