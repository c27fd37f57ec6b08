package io.flinktrt.testing;

import io.flinktrt.backend.Availability;
import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * ONNX Runtime behind a gate the test controls, like Flink's {@code LazyAsyncFunction}: batches
 * wait for permits, can be slowed down or made to fail, and the backend counts what it saw. State
 * is static because Flink instantiates the function (and so the runner) itself.
 */
public final class GatedBackend implements InferenceBackend {

    public static final String NAME = "gated";

    private static final Semaphore PERMITS = new Semaphore(0);
    private static volatile boolean gateOpen = true;
    private static volatile boolean failing;
    private static volatile Duration delay = Duration.ZERO;
    private static final AtomicInteger BATCHES_STARTED = new AtomicInteger();
    private static final AtomicInteger ROWS_IN_FLIGHT = new AtomicInteger();
    private static final AtomicInteger MAX_ROWS_IN_FLIGHT = new AtomicInteger();
    private static final AtomicInteger ACQUIRE_WAITS = new AtomicInteger();

    /** Open gate, no failures, no delay, counters at zero. */
    public static void reset() {
        gateOpen = true;
        failing = false;
        delay = Duration.ZERO;
        PERMITS.drainPermits();
        BATCHES_STARTED.set(0);
        ROWS_IN_FLIGHT.set(0);
        MAX_ROWS_IN_FLIGHT.set(0);
        ACQUIRE_WAITS.set(0);
    }

    /** From now on every batch waits for {@link #release} or {@link #openGate}. */
    public static void closeGate() {
        gateOpen = false;
    }

    public static void openGate() {
        gateOpen = true;
        PERMITS.release(1_000_000);
    }

    public static void release(int batches) {
        PERMITS.release(batches);
    }

    public static void failBatches(boolean fail) {
        failing = fail;
    }

    public static void delayEachBatch(Duration perBatch) {
        delay = perBatch;
    }

    public static int batchesStarted() {
        return BATCHES_STARTED.get();
    }

    /** Most rows held by started, unfinished batches at any moment. */
    public static int maxRowsInFlight() {
        return MAX_ROWS_IN_FLIGHT.get();
    }

    /** How often a caller found every buffer set busy and had to wait. */
    public static int acquireWaits() {
        return ACQUIRE_WAITS.get();
    }

    private final OnnxRuntimeBackend delegate = new OnnxRuntimeBackend();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return -100; // never chosen by auto
    }

    @Override
    public Availability availability() {
        return Availability.yes("test backend");
    }

    @Override
    public boolean accepts(java.nio.file.Path model) {
        return delegate.accepts(model);
    }

    @Override
    public ModelRunner open(ModelConfig config) throws BackendException {
        return new GatedRunner(delegate.open(config), config.buffersInFlight());
    }

    private static final class GatedRunner implements ModelRunner {
        private final ModelRunner inner;
        private final Semaphore freeSets;
        private final ExecutorService gateThread = Executors.newSingleThreadExecutor();

        GatedRunner(ModelRunner inner, int sets) {
            this.inner = inner;
            this.freeSets = new Semaphore(sets);
        }

        @Override
        public ModelSignature signature() {
            return inner.signature();
        }

        @Override
        public String backendName() {
            return NAME;
        }

        @Override
        public BatchBuffers acquire() throws InterruptedException {
            if (!freeSets.tryAcquire()) {
                ACQUIRE_WAITS.incrementAndGet();
                freeSets.acquire();
            }
            return new GatedBuffers(inner.acquire(), freeSets);
        }

        @Override
        public void close() {
            gateThread.shutdownNow();
            inner.close();
        }

        private final class GatedBuffers implements BatchBuffers {
            private final BatchBuffers buffers;
            private final Semaphore freeSets;

            GatedBuffers(BatchBuffers buffers, Semaphore freeSets) {
                this.buffers = buffers;
                this.freeSets = freeSets;
            }

            @Override
            public ByteBuffer input(int index) {
                return buffers.input(index);
            }

            @Override
            public ByteBuffer output(int index) {
                return buffers.output(index);
            }

            @Override
            public CompletableFuture<BatchRun> run(int rows) {
                BATCHES_STARTED.incrementAndGet();
                MAX_ROWS_IN_FLIGHT.accumulateAndGet(ROWS_IN_FLIGHT.addAndGet(rows), Math::max);
                return CompletableFuture.runAsync(() -> pass(), gateThread)
                        .thenCompose(ignored -> buffers.run(rows))
                        .whenComplete((run, error) -> ROWS_IN_FLIGHT.addAndGet(-rows));
            }

            private void pass() {
                try {
                    if (!gateOpen) {
                        PERMITS.acquire();
                    }
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CompletionException(new BackendException("gated backend closed"));
                }
                if (failing) {
                    throw new CompletionException(new BackendException("injected failure (GatedBackend)"));
                }
            }

            @Override
            public void release() {
                buffers.release();
                freeSets.release();
            }
        }
    }
}
