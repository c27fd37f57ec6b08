package io.flinktrt.text;

import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.operator.RowRejectedException;

import org.apache.flink.annotation.Internal;

/**
 * A checked text waiting for its batch; tokenized once, on a copy thread (when it queues, for a
 * model with a sequence axis, else when its row is written; a retried batch rewrites the row from
 * the same tokens), and read again for its answer.
 */
@Internal
public final class PendingText {

    private final String text;
    private TokenizedText tokens;
    private RequestRejectedException rejection;

    public PendingText(String text) {
        this.text = text;
    }

    /** The tokens, tokenizing on first use; a text refused then is refused on every call. */
    public synchronized TokenizedText tokens(TextTokenizer tokenizer) {
        if (tokens == null && rejection == null) {
            try {
                tokens = tokenizer.tokenize(text);
            } catch (RequestRejectedException e) {
                rejection = e;
            }
        }
        if (rejection != null) {
            throw new RowRejectedException(rejection);
        }
        return tokens;
    }

    /** The tokens once tokenized (after its row was written), else null. */
    public synchronized TokenizedText tokensIfDone() {
        return tokens;
    }
}
