package io.flinktrt.operator;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Thrown by a translator's {@code putRow} for a record found unfit only while it is written into
 * its batch (a text with more tokens than allowed, known once tokenized on a copy thread): the
 * record goes to {@link InferenceTranslator#failed} with the rejection's code instead of
 * BACKEND_ERROR; the rest of the batch runs.
 */
@PublicEvolving
public final class RowRejectedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final RequestRejectedException rejection;

    public RowRejectedException(RequestRejectedException rejection) {
        super(rejection.getMessage(), rejection, false, false);
        this.rejection = rejection;
    }

    public RequestRejectedException rejection() {
        return rejection;
    }
}
