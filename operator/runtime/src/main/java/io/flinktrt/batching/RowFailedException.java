package io.flinktrt.batching;

import org.apache.flink.annotation.Internal;

/**
 * A record that got no output: the backend failed on it even in a batch of its own (or after a
 * batch's retries ran out), or its row could not be written or read. Only this record fails.
 */
@Internal
public final class RowFailedException extends Exception {

    private static final long serialVersionUID = 1L;

    public RowFailedException(String message, Throwable cause) {
        super(
                message, cause, false,
                false); // one per failed record: the cause holds the stack trace
    }
}
