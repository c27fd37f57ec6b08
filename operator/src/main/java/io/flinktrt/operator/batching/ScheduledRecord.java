package io.flinktrt.operator.batching;

import java.util.concurrent.CompletableFuture;

/**
 * A record waiting in a {@link BatchScheduler}'s queue or running in a batch; it is also the future
 * its caller holds, so a record costs one object here. Completed exactly once: by its batch, by
 * a failure, or by the caller (a timeout), whichever comes first; a completed record is skipped.
 */
final class ScheduledRecord<P, OUT> extends CompletableFuture<OUT> {

    final P record;
    final long arrivalNanos;

    ScheduledRecord(P record, long arrivalNanos) {
        this.record = record;
        this.arrivalNanos = arrivalNanos;
    }
}
