package io.flinktrt.batching;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real ONNX Runtime runner with a test's hands on it: batches can be held at a gate, the test can
 * wait for batches to start, and any batch holding a row whose first input value is {@link #POISON}
 * fails, as a backend fails on one bad record.
 */
final class ControlledRunner implements ModelRunner {

    static final float POISON = 666f;

    private final ModelRunner inner;
    private final CountDownLatch gate = new CountDownLatch(1);
    private final Semaphore started = new Semaphore(0);
    private final AtomicInteger runs = new AtomicInteger();
    private final AtomicInteger failedRuns = new AtomicInteger();
    private volatile boolean gated;
    private volatile int concurrentBatches = Integer.MAX_VALUE;

    ControlledRunner(Path model, int maxBatch, int bufferSets) throws BackendException {
        this.inner =
                new OnnxRuntimeBackend()
                        .open(new ModelConfig(model, 0, maxBatch, bufferSets, Map.of()));
    }

    /** Holds every batch that starts from now on until {@link #openGate}. */
    void closeGate() {
        gated = true;
    }

    /** Says the device computes this many batches at once, as TensorRtRunner says 1. */
    void computeAtOnce(int batches) {
        concurrentBatches = batches;
    }

    @Override
    public int concurrentBatches() {
        return concurrentBatches;
    }

    void openGate() {
        gate.countDown();
    }

    void awaitBatchesStarted(int batches) throws InterruptedException {
        started.acquire(batches);
    }

    int runs() {
        return runs.get();
    }

    int failedRuns() {
        return failedRuns.get();
    }

    @Override
    public ModelSignature signature() {
        return inner.signature();
    }

    @Override
    public String backendName() {
        return "controlled";
    }

    @Override
    public BatchBuffers acquire() throws InterruptedException {
        BatchBuffers buffers = inner.acquire();
        return new BatchBuffers() {
            @Override
            public ByteBuffer input(int index) {
                return buffers.input(index);
            }

            @Override
            public CompletableFuture<BatchRun> run(int rows) {
                runs.incrementAndGet();
                started.release();
                boolean poisoned = false;
                int rowBytes = signature().inputs().get(0).sampleBytes();
                for (int row = 0; row < rows; row++) {
                    poisoned |= buffers.input(0).getFloat(row * rowBytes) == POISON;
                }
                if (poisoned) {
                    failedRuns.incrementAndGet();
                    return CompletableFuture.failedFuture(
                            new BackendException("poisoned row in a batch of " + rows));
                }
                if (!gated) {
                    return buffers.run(rows);
                }
                return CompletableFuture.runAsync(
                                () -> {
                                    try {
                                        gate.await();
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                })
                        .thenCompose(ignored -> buffers.run(rows));
            }

            @Override
            public ByteBuffer output(int index) {
                return buffers.output(index);
            }

            @Override
            public void release() {
                buffers.release();
            }
        };
    }

    @Override
    public void close() {
        gate.countDown();
        inner.close();
    }
}
