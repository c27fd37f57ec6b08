package io.flinktrt.operator;

import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.PublicEvolving;

/** A request that cannot run; it goes to the dead-letter topic with {@link #code()}. */
@PublicEvolving
public final class RequestRejectedException extends Exception {

    private final ErrorCode code;
    private final String requestId;

    public RequestRejectedException(ErrorCode code, String message) {
        this(code, message, null);
    }

    private RequestRejectedException(ErrorCode code, String message, String requestId) {
        super(message, null, false, false); // expected on bad input: no stack trace to pay for
        this.code = code;
        this.requestId = requestId;
    }

    /** The same rejection, naming the request it is about. */
    public RequestRejectedException withRequestId(String id) {
        return new RequestRejectedException(code, getMessage(), id);
    }

    /** Id of the rejected request, or null when it could not be decoded. */
    public String requestId() {
        return requestId;
    }

    public ErrorCode code() {
        return code;
    }
}
