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
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * ONNX Runtime behind a gate the test controls, like Flink's {@code LazyAsyncFunction}: batches
 * wait for permits, can be slowed down or made to fail (all of them, or those holding a poisoned
 * row), and the backend counts what it saw. It has no buffer sets of its own: how many batches may
 * be in flight is the real runner's business, so the counts show what the operator did with them.
 * State is static because Flink instantiates the function (and so the runner) itself.
 */
public final class GatedBackend implements InferenceBackend {

    public static final String NAME = "gated";

    private static final Semaphore PERMITS = new Semaphore(0);
    private static volatile boolean gateOpen = true;
    private static volatile boolean failing;
    private static volatile Duration delay = Duration.ZERO;
    private static volatile float poison = Float.NaN;
    private static volatile int bucket = 1;
    private static final AtomicInteger BATCHES_STARTED = new AtomicInteger();
    private static final Object STARTED = new Object();
    private static final AtomicInteger ROWS_IN_FLIGHT = new AtomicInteger();
    private static final AtomicInteger MAX_ROWS_IN_FLIGHT = new AtomicInteger();
    private static final AtomicInteger ACQUIRE_WAITS = new AtomicInteger();

    /** Open gate, no failures, no delay, counters at zero. */
    public static void reset() {
        gateOpen = true;
        failing = false;
        delay = Duration.ZERO;
        poison = Float.NaN;
        bucket = 1;
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

    /**
     * From now on a batch fails when one of its rows has {@code marker} as its first input value.
     */
    public static void poisonRowsStartingWith(float marker) {
        poison = marker;
    }

    /**
     * From now on batches report their rows as computed in multiples of {@code rows}, as a GPU's
     * buckets pad them.
     */
    public static void padBatchesTo(int rows) {
        bucket = rows;
    }

    public static void delayEachBatch(Duration perBatch) {
        delay = perBatch;
    }

    public static int batchesStarted() {
        return BATCHES_STARTED.get();
    }

    /** Waits until {@code count} batches have started since the last {@link #reset}. */
    public static void awaitBatchesStarted(int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        synchronized (STARTED) {
            while (BATCHES_STARTED.get() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(
                            "Only " + BATCHES_STARTED.get() + " of " + count + " batches started");
                }
                STARTED.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** Most rows held by batches at any moment, from their run until their buffers are released. */
    public static int maxRowsInFlight() {
        return MAX_ROWS_IN_FLIGHT.get();
    }

    /**
     * How often a caller asked for buffers while it held every set the runner has, and so had to
     * wait.
     */
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
    public boolean accepts(Path model) {
        return delegate.accepts(model);
    }

    @Override
    public Optional<ModelSignature> describe(Path model) throws BackendException {
        return delegate.describe(model);
    }

    @Override
    public ModelRunner open(ModelConfig config) throws BackendException {
        return new GatedRunner(delegate.open(config), config.buffersInFlight());
    }

    private static final class GatedRunner implements ModelRunner {
        private final ModelRunner inner;
        private final int sets;
        private final AtomicInteger setsHeld = new AtomicInteger();
        private final ExecutorService gateThread = Executors.newSingleThreadExecutor();

        GatedRunner(ModelRunner inner, int sets) {
            this.inner = inner;
            this.sets = sets;
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
            if (setsHeld.get() >= sets) {
                ACQUIRE_WAITS.incrementAndGet();
            }
            BatchBuffers buffers =
                    inner.acquire(); // the real runner's sets: it waits here while all are held
            setsHeld.incrementAndGet();
            return new GatedBuffers(buffers);
        }

        @Override
        public void close() {
            gateThread.shutdownNow();
            inner.close();
        }

        private final class GatedBuffers implements BatchBuffers {
            private final BatchBuffers buffers;
            private int rowsHeld;

            GatedBuffers(BatchBuffers buffers) {
                this.buffers = buffers;
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
                ROWS_IN_FLIGHT.addAndGet(
                        rows - rowsHeld); // a failed batch's halves rerun on the same buffers
                rowsHeld = rows;
                MAX_ROWS_IN_FLIGHT.accumulateAndGet(ROWS_IN_FLIGHT.get(), Math::max);
                synchronized (STARTED) {
                    BATCHES_STARTED.incrementAndGet();
                    STARTED.notifyAll();
                }
                boolean poisoned = poisoned(rows);
                int padded = (rows + bucket - 1) / bucket * bucket;
                return CompletableFuture.runAsync(() -> pass(poisoned), gateThread)
                        .thenCompose(ignored -> buffers.run(rows))
                        .thenApply(run -> new BatchRun(run.rows(), padded, run.computeNanos()));
            }

            private boolean poisoned(int rows) {
                int rowBytes = signature().inputs().get(0).sampleBytes();
                for (int row = 0; row < rows; row++) {
                    if (buffers.input(0).getFloat(row * rowBytes) == poison) {
                        return true;
                    }
                }
                return false;
            }

            private void pass(boolean poisoned) {
                try {
                    if (!gateOpen) {
                        PERMITS.acquire();
                    }
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CompletionException(new BackendException("gated backend closed"));
                }
                if (failing || poisoned) {
                    throw new CompletionException(
                            new BackendException("injected failure (GatedBackend)"));
                }
            }

            @Override
            public void release() {
                ROWS_IN_FLIGHT.addAndGet(-rowsHeld);
                setsHeld.decrementAndGet();
                buffers.release();
            }
        }
    }
}
