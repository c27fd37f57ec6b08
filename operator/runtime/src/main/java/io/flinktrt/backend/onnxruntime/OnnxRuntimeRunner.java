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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
        this.signature = signature(model, config.maxBatchSize(), config.sequenceLengths());
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

    /**
     * The runner's signature: a dynamic sequence axis (the dimension after the batch) runs at
     * {@code sequenceLengths}, its sample shapes at the longest of them.
     */
    static ModelSignature signature(
            OnnxModel model, int configuredMaxBatch, List<Integer> sequenceLengths)
            throws BackendException {
        Set<String> sequenceTensors = new HashSet<>();
        Stream.concat(model.inputs.stream(), model.outputs.stream())
                .filter(spec -> spec.sampleShape().length > 0 && spec.sampleShape()[0] < 0)
                .forEach(spec -> sequenceTensors.add(spec.name()));
        if (sequenceTensors.isEmpty()) {
            return new ModelSignature(
                    model.name,
                    model.checksum,
                    model.inputs,
                    model.outputs,
                    maxBatch(model, configuredMaxBatch));
        }
        if (sequenceLengths.isEmpty()) {
            throw new BackendException(
                    "Model "
                            + model.name
                            + " has a dynamic sequence dimension (the one after the batch) in "
                            + new TreeSet<>(sequenceTensors)
                            + "; give the lengths a batch may run at, e.g. 16,32,64,128"
                            + " (--sequence-lengths, option inference.sequence-lengths,"
                            + " SQL 'sequence-lengths').");
        }
        ModelSignature.SequenceAxis sequence =
                new ModelSignature.SequenceAxis(sequenceLengths, sequenceTensors);
        return new ModelSignature(
                model.name,
                model.checksum,
                sequence.atLongest(model.inputs),
                sequence.atLongest(model.outputs),
                maxBatch(model, configuredMaxBatch),
                sequence);
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

        /**
         * Where a batch shorter than the longest length is packed; null without a sequence axis.
         */
        private final ByteBuffer[] packed;

        private final ByteBuffer[] packedOutputs;

        Buffers(int maxBatch) {
            inputs = allocate(signature.inputs(), maxBatch);
            outputs = allocate(signature.outputs(), maxBatch);
            boolean varies = signature.sequence().varies();
            packed = varies ? allocate(signature.inputs(), maxBatch) : null;
            packedOutputs = varies ? allocate(signature.outputs(), maxBatch) : null;
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
            int longest = signature.sequence().varies() ? signature.sequence().longest() : 0;
            return CompletableFuture.supplyAsync(() -> runNow(rows, longest), worker);
        }

        @Override
        public CompletableFuture<BatchRun> run(int rows, int tokens) {
            int length = signature.sequence().varies() ? signature.sequence().bucketFor(tokens) : 0;
            return CompletableFuture.supplyAsync(() -> runNow(rows, length), worker);
        }

        /**
         * Rows at sequence length {@code length} (0: the model has no sequence axis). The tensors
         * wrap the buffers, except, in a batch shorter than the longest length, those of the
         * sequence axis: their rows are packed at {@code length} (a copy: ONNX Runtime takes no row
         * pitch), and its outputs unpacked back to the longest length, where readers find them.
         */
        private BatchRun runNow(int rows, int length) {
            long start = System.nanoTime();
            ModelSignature.SequenceAxis sequence = signature.sequence();
            boolean packs = length > 0 && length < sequence.longest();
            List<OnnxTensor> created = new ArrayList<>();
            try {
                Map<String, OnnxTensor> in = new HashMap<>();
                for (int i = 0; i < inputs.length; i++) {
                    TensorSpec spec = signature.inputs().get(i);
                    ByteBuffer data = inputs[i];
                    if (packs && sequence.has(spec)) {
                        data = packed[i];
                        repitch(
                                inputs[i],
                                spec.sampleBytes(),
                                data,
                                sequence.rowBytes(spec, length),
                                rows);
                    }
                    in.put(spec.name(), tensor(spec, data, rows, length, created));
                }
                Map<String, OnnxTensor> out = new HashMap<>();
                for (int o = 0; o < outputs.length; o++) {
                    TensorSpec spec = signature.outputs().get(o);
                    ByteBuffer data = packs && sequence.has(spec) ? packedOutputs[o] : outputs[o];
                    out.put(spec.name(), tensor(spec, data, rows, length, created));
                }
                model.session.run(in, out).close();
                for (int o = 0; packs && o < outputs.length; o++) {
                    TensorSpec spec = signature.outputs().get(o);
                    if (sequence.has(spec)) {
                        repitch(
                                packedOutputs[o],
                                sequence.rowBytes(spec, length),
                                outputs[o],
                                spec.sampleBytes(),
                                rows);
                    }
                }
                return new BatchRun(rows, rows, System.nanoTime() - start, 0, length);
            } catch (OrtException e) {
                throw new CompletionException(
                        new BackendException(
                                "ONNX Runtime failed on a batch of " + rows + ": " + e.getMessage(),
                                e));
            } finally {
                created.forEach(OnnxTensor::close);
            }
        }

        /** A tensor of {@code rows} rows of {@code spec} at {@code length} over {@code data}. */
        private OnnxTensor tensor(
                TensorSpec spec, ByteBuffer data, int rows, int length, List<OnnxTensor> created)
                throws OrtException {
            long[] shape = spec.batchShape(rows);
            if (signature.sequence().has(spec)) {
                shape[1] = length;
            }
            long bytes = signature.sequence().rowBytes(spec, length) * (long) rows;
            OnnxTensor tensor =
                    OnnxTensor.createTensor(
                            OrtEnvironment.getEnvironment(),
                            data.duplicate()
                                    .position(0)
                                    .limit(Math.toIntExact(bytes))
                                    .slice()
                                    .order(ByteOrder.LITTLE_ENDIAN),
                            shape,
                            OnnxModel.javaType(spec.dtype()));
            created.add(tensor);
            return tensor;
        }

        @Override
        public void release() {
            free.add(this);
        }
    }

    /**
     * Copies {@code rows} rows of {@code fromPitch} bytes to rows of {@code toPitch}, each cut or
     * kept to the smaller.
     */
    private static void repitch(
            ByteBuffer from, int fromPitch, ByteBuffer to, int toPitch, int rows) {
        int width = Math.min(fromPitch, toPitch);
        for (int r = 0; r < rows; r++) {
            to.put(r * toPitch, from, r * fromPitch, width);
        }
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
