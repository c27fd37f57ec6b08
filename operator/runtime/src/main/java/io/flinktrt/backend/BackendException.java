package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

/** A model could not be opened or a batch could not run; the message says what to do about it. */
@PublicEvolving
public class BackendException extends Exception {

    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
