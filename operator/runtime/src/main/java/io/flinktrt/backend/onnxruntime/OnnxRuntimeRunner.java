package io.flinktrt.backend.onnxruntime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.SharedRegistry;
import io.flinktrt.backend.TensorSpec;

import org.apache.flink.util.ExecutorUtils;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One slot's view of a shared ONNX Runtime session: its own direct buffers, run in place (the
 * tensors wrap the buffers, outputs are written straight into them), on the slot's own thread.
 */
final class OnnxRuntimeRunner implements ModelRunner {

    /** Used when the model's batch dimension is dynamic and the configuration sets no limit. */
    static final int DEFAULT_MAX_BATCH = 64;

    private final SharedRegistry<?, OnnxModel>.Lease lease;
    private final OnnxModel model;
    private final ModelSignature signature;
    private final BlockingQueue<Buffers> free;
    private final ExecutorService worker;

    OnnxRuntimeRunner(SharedRegistry<?, OnnxModel>.Lease lease, ModelConfig config)
            throws BackendException {
        this.lease = lease;
        this.model = lease.get();
        this.signature = signature(model, config.maxBatchSize());
        int maxBatch = signature.maxBatchSize();
        int sets = Math.max(1, config.buffersInFlight());
        this.free = new ArrayBlockingQueue<>(sets);
        for (int i = 0; i < sets; i++) {
            free.add(new Buffers(maxBatch));
        }
        this.worker =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, "onnxruntime-" + model.name);
                            t.setDaemon(true);
                            return t;
                        });
    }

    static ModelSignature signature(OnnxModel model, int configuredMaxBatch)
            throws BackendException {
        return new ModelSignature(
                model.name,
                model.checksum,
                model.inputs,
                model.outputs,
                maxBatch(model, configuredMaxBatch));
    }

    private static int maxBatch(OnnxModel model, int configured) throws BackendException {
        if (model.fixedBatch > 0) {
            if (configured > model.fixedBatch) {
                throw new BackendException(
                        "Max batch size "
                                + configured
                                + " is above the model's fixed batch "
                                + model.fixedBatch
                                + "; lower it or export the model with a dynamic batch dimension.");
            }
            return configured > 0 ? configured : model.fixedBatch;
        }
        return configured > 0 ? configured : DEFAULT_MAX_BATCH;
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public String backendName() {
        return OnnxRuntimeBackend.NAME;
    }

    @Override
    public BatchBuffers acquire() throws InterruptedException {
        return free.take();
    }

    @Override
    public void close() {
        ExecutorUtils.gracefulShutdown(1, TimeUnit.MINUTES, worker);
        OnnxRuntimeBackend.closeQuietly(lease);
    }

    private final class Buffers implements BatchBuffers {
        private final ByteBuffer[] inputs;
        private final ByteBuffer[] outputs;

        Buffers(int maxBatch) {
            inputs = allocate(signature.inputs(), maxBatch);
            outputs = allocate(signature.outputs(), maxBatch);
        }

        @Override
        public ByteBuffer input(int index) {
            return inputs[index];
        }

        @Override
        public ByteBuffer output(int index) {
            return outputs[index];
        }

        @Override
        public CompletableFuture<BatchRun> run(int rows) {
            return CompletableFuture.supplyAsync(() -> runNow(rows), worker);
        }

        private BatchRun runNow(int rows) {
            long start = System.nanoTime();
            List<OnnxTensor> tensors = new ArrayList<>();
            try {
                Map<String, OnnxTensor> in = wrap(signature.inputs(), inputs, rows, tensors);
                Map<String, OnnxTensor> out = wrap(signature.outputs(), outputs, rows, tensors);
                model.session.run(in, out).close();
                return new BatchRun(rows, rows, System.nanoTime() - start);
            } catch (OrtException e) {
                throw new CompletionException(
                        new BackendException(
                                "ONNX Runtime failed on a batch of " + rows + ": " + e.getMessage(),
                                e));
            } finally {
                tensors.forEach(OnnxTensor::close);
            }
        }

        @Override
        public void release() {
            free.add(this);
        }
    }

    private static Map<String, OnnxTensor> wrap(
            List<TensorSpec> specs, ByteBuffer[] buffers, int rows, List<OnnxTensor> created)
            throws OrtException {
        Map<String, OnnxTensor> tensors = new HashMap<>();
        for (int i = 0; i < specs.size(); i++) {
            TensorSpec spec = specs.get(i);
            ByteBuffer rowsOnly =
                    buffers[i]
                            .duplicate()
                            .position(0)
                            .limit(rows * spec.sampleBytes())
                            .slice()
                            .order(ByteOrder.LITTLE_ENDIAN);
            OnnxTensor tensor =
                    OnnxTensor.createTensor(
                            OrtEnvironment.getEnvironment(),
                            rowsOnly,
                            spec.batchShape(rows),
                            OnnxModel.javaType(spec.dtype()));
            created.add(tensor);
            tensors.put(spec.name(), tensor);
        }
        return tensors;
    }

    private static ByteBuffer[] allocate(List<TensorSpec> specs, int maxBatch) {
        ByteBuffer[] buffers = new ByteBuffer[specs.size()];
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] =
                    ByteBuffer.allocateDirect(
                                    Math.multiplyExact(maxBatch, specs.get(i).sampleBytes()))
                            .order(ByteOrder.LITTLE_ENDIAN);
        }
        return buffers;
    }
}
