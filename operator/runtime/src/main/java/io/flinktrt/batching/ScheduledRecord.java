package io.flinktrt.batching;

import org.apache.flink.annotation.Internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A record waiting in a {@link BatchScheduler}'s queue or running in a batch, with what to do when
 * it completes. Completed exactly once: by its batch ({@link #onOutput}), by a failure or by its
 * caller ({@link #fail}, e.g. a timeout), whichever comes first; a batch skips a record already
 * completed. A caller that keeps per-record state (the Flink function's {@code ResultFuture})
 * subclasses it, so a record costs one object here; {@link BatchScheduler#submit(Object)} gives a
 * {@code CompletableFuture} instead.
 */
@Internal
public abstract class ScheduledRecord<P, OUT> {

    private static final VarHandle DONE;

    static {
        try {
            DONE =
                    MethodHandles.lookup()
                            .findVarHandle(ScheduledRecord.class, "done", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final P record;
    final long arrivalNanos;

    /** Positions it fills, for a model with a sequence axis; set once before it queues. */
    int tokens;

    @SuppressWarnings("unused") // set through DONE
    private volatile boolean done;

    /**
     * @param arrivalNanos when it arrived ({@link System#nanoTime()}); max-delay counts from it
     */
    protected ScheduledRecord(P record, long arrivalNanos) {
        this.record = record;
        this.arrivalNanos = arrivalNanos;
    }

    public final P record() {
        return record;
    }

    /** Whether it completed already; a batch being formed leaves it out. */
    public boolean isDone() {
        return done;
    }

    /** Completes it with a failure unless it completed before; returns whether this call did. */
    public final boolean fail(Throwable error) {
        if (DONE.compareAndSet(this, false, true)) {
            onFailure(error);
            return true;
        }
        return false;
    }

    final boolean complete(OUT output) {
        if (DONE.compareAndSet(this, false, true)) {
            onOutput(output);
            return true;
        }
        return false;
    }

    /**
     * Its output; on the backend's thread. Called at most once, and never with {@link #onFailure}.
     */
    protected abstract void onOutput(OUT output);

    /**
     * Why it got no output: a {@link RowFailedException}, or what the caller gave {@link #fail}.
     * Called at most once, and never with {@link #onOutput}.
     */
    protected abstract void onFailure(Throwable error);
}
