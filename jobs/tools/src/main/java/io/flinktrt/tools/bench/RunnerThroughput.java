package io.flinktrt.tools.bench;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelRunner;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The backend on its own, driven from one thread: every buffer set kept busy with batches of one
 * size, copies included (what the operator can at best reach with the same runner).
 */
final class RunnerThroughput {

    private RunnerThroughput() {}

    static double recordsPerSecond(ModelRunner runner, int rows, Duration warmUp, Duration duration)
            throws Exception {
        run(runner, rows, warmUp);
        return run(runner, rows, duration);
    }

    private static double run(ModelRunner runner, int rows, Duration duration) throws Exception {
        AtomicLong done = new AtomicLong();
        CompletableFuture<?> last = CompletableFuture.completedFuture(null);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long started = 0;
        while (System.nanoTime() < end) {
            BatchBuffers buffers = runner.acquire(); // blocks while every set is in flight
            started++;
            last =
                    buffers.run(rows)
                            .whenComplete(
                                    (run, error) -> {
                                        buffers.release();
                                        if (error == null) {
                                            done.addAndGet(rows);
                                        }
                                    });
        }
        last.join();
        while (done.get() < started * rows && !last.isCompletedExceptionally()) {
            Thread.onSpinWait(); // batches complete in order; the last one may still be releasing
        }
        return done.get() / ((System.nanoTime() - start) / 1e9);
    }
}
