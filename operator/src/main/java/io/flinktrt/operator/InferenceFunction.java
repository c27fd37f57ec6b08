package io.flinktrt.operator;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.Backends;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.batch.Batcher;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceOutcome;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Runs a model on a stream of serialized {@code InferenceRequest}s, in batches.
 *
 * <p>Each record's {@link ResultFuture} stays open until its batch completes, so records still in
 * flight sit in Flink's async operator queue: a checkpoint stores them and a restore replays them.
 * A batch leaves when it reaches the model's max batch or when its oldest record has waited
 * max-delay. Bad input and timeouts become failure outcomes for the dead-letter topic; they never
 * fail the job.
 */
public final class InferenceFunction extends RichAsyncFunction<byte[], InferenceOutcome> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferenceFunction.class);
    /** Batches larger than this are copied into the batch buffers by several threads. */
    static final long PARALLEL_COPY_BYTES = 4L << 20;
    /** Capacity when neither it nor the max batch size is configured. */
    static final int DEFAULT_CAPACITY = 256;

    private final InferenceConfig config;

    private transient GpuAssignment.Claim device;
    private transient ModelRunner runner;
    private transient ModelSignature signature;
    /** Input bytes of one request. */
    private transient long rowBytes;
    private transient RequestDecoder decoder;
    private transient ResultEncoder encoder;
    private transient Batcher<PendingRequest> batcher;
    /**
     * Waits for free buffers and starts batches, so the task thread never blocks on the backend:
     * while a backend stalls, the task still handles timeouts and checkpoints. Backpressure comes
     * from the async operator's capacity instead.
     */
    private transient ExecutorService dispatcher;
    /** Batches handed to the dispatcher and not yet started, oldest first; guarded by itself. */
    private transient ArrayDeque<List<PendingRequest>> waiting;
    private transient InferenceMetrics metrics;
    /**
     * Futures not yet completed, with their request ids ("" until decoded); whoever removes one
     * (its batch, a failure or the timeout) completes it, exactly once.
     */
    private transient Map<ResultFuture<InferenceOutcome>, String> inFlight;

    InferenceFunction(InferenceConfig config) {
        this.config = config;
    }

    public static InferenceFunctionBuilder builder() {
        return new InferenceFunctionBuilder();
    }

    /** Requests the async operator holds in flight: configured, or derived from the max batch. */
    public int capacity() {
        return config.capacity() > 0 ? config.capacity()
                : config.maxBatchSize() > 0 ? config.effectiveCapacity(config.maxBatchSize()) : DEFAULT_CAPACITY;
    }

    /** Puts this function on {@code requests} with the configured capacity, timeout and output order. */
    public SingleOutputStreamOperator<InferenceOutcome> applyTo(DataStream<byte[]> requests) {
        int capacity = capacity();
        long timeoutMs = config.timeout().toMillis();
        SingleOutputStreamOperator<InferenceOutcome> outcomes = config.ordered()
                ? AsyncDataStream.orderedWait(requests, this, timeoutMs, TimeUnit.MILLISECONDS, capacity)
                : AsyncDataStream.unorderedWait(requests, this, timeoutMs, TimeUnit.MILLISECONDS, capacity);
        return outcomes.returns(new AvroTypeInfo<>(InferenceOutcome.class)).name("inference").uid("inference");
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        Backends.Selection selection = Backends.select(config.backend(), Path.of(config.model()));
        device = GpuAssignment.claim(getRuntimeContext().getExternalResourceInfos("gpu"), config.device());
        runner = selection.backend().open(config.modelConfig(device.deviceIndex()));
        signature = runner.signature();
        LOG.info("Subtask {} runs {} on {} (device {} from {}); {}; max batch {}, max delay {}",
                subtask, signature.modelName(), runner.backendName(), device.deviceIndex(), device.source(),
                selection.reason(), signature.maxBatchSize(), config.maxDelay());
        if (config.capacity() == 0 && config.maxBatchSize() == 0 && DEFAULT_CAPACITY < 2 * signature.maxBatchSize()) {
            LOG.warn("Async capacity {} is less than twice the model's max batch {}: batches cannot overlap."
                    + " Set {} or {}.", DEFAULT_CAPACITY, signature.maxBatchSize(),
                    InferenceOptions.MAX_BATCH_SIZE.key(), InferenceOptions.CAPACITY.key());
        }
        rowBytes = signature.inputs().stream().mapToLong(TensorSpec::sampleBytes).sum();
        decoder = new RequestDecoder(signature, config.limits());
        encoder = new ResultEncoder(signature, runner.backendName());
        inFlight = new ConcurrentHashMap<>();
        metrics = new InferenceMetrics(getRuntimeContext().getMetricGroup(), () -> inFlight.size());
        dispatcher = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "inference-dispatcher-" + subtask);
            thread.setDaemon(true);
            return thread;
        });
        waiting = new ArrayDeque<>();
        batcher = new Batcher<>(signature.maxBatchSize(), config.maxDelay(), this::dispatch,
                "inference-batcher-" + subtask);
    }

    @Override
    public void asyncInvoke(byte[] payload, ResultFuture<InferenceOutcome> future) {
        long arrival = System.nanoTime();
        inFlight.put(future, "");
        DecodedRequest request;
        try {
            request = decoder.decode(payload);
        } catch (RequestRejectedException e) {
            if (e.requestId() != null) {
                inFlight.replace(future, e.requestId());
            }
            fail(future, e.code(), e.getMessage(), payload);
            return;
        }
        inFlight.replace(future, request.id());
        batcher.add(new PendingRequest(request, payload, future, arrival));
    }

    @Override
    public void timeout(byte[] payload, ResultFuture<InferenceOutcome> future) {
        fail(future, ErrorCode.TIMEOUT, "No result within " + config.timeout()
                + "; the backend is slower than the stream or stalled.", payload);
    }

    /** Queues a batch for the dispatcher; runs on the task or the batcher's timer thread. */
    private void dispatch(List<PendingRequest> batch) {
        synchronized (waiting) {
            waiting.add(batch);
            // While a backend stalls, batches pile up here as their requests time out: drop those
            // requests now, so what waits stays within the async operator's capacity.
            waiting.forEach(b -> b.removeIf(this::timedOut));
            waiting.removeIf(List::isEmpty);
        }
        dispatcher.execute(this::runNextBatch);
    }

    private boolean timedOut(PendingRequest request) {
        return !inFlight.containsKey(request.future());
    }

    /** Fills a free buffer set with the oldest waiting batch and starts it; runs on the dispatcher thread. */
    private void runNextBatch() {
        synchronized (waiting) {
            if (waiting.isEmpty()) { // this turn's batch joined an earlier one
                return;
            }
        }
        BatchBuffers buffers;
        try {
            buffers = runner.acquire(); // waits while every buffer set is busy
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the task is being cancelled; its queue is checkpointed
            return;
        }
        List<PendingRequest> batch;
        synchronized (waiting) {
            batch = waiting.poll();
            if (batch != null) {
                batch.removeIf(this::timedOut);
                joinWaitingBatches(batch);
            }
        }
        if (batch == null || batch.isEmpty()) { // it timed out whole, or joined an earlier batch, while waiting for buffers
            buffers.release();
            return;
        }
        long batchStart = System.nanoTime();
        if ((long) batch.size() * rowBytes < PARALLEL_COPY_BYTES) {
            for (int row = 0; row < batch.size(); row++) {
                putRow(signature, batch.get(row).request(), buffers, row);
            }
        } else { // a batch of images is tens of MB: one thread's memcpy would be slower than the GPU
            IntStream.range(0, batch.size()).parallel()
                    .forEach(row -> putRow(signature, batch.get(row).request(), buffers, row));
        }
        metrics.batchFilled((System.nanoTime() - batchStart) / 1000);
        buffers.run(batch.size()).whenComplete((run, error) -> {
            try {
                if (error != null) {
                    String message = "Backend failed on a batch of " + batch.size() + ": " + rootMessage(error);
                    LOG.warn(message, error);
                    batch.forEach(p -> fail(p.future(), ErrorCode.BACKEND_ERROR, message, p.payload()));
                } else {
                    complete(batch, buffers, run, batchStart);
                }
            } finally {
                buffers.release();
            }
        });
    }

    /**
     * Moves whole batches that waited behind {@code batch} into it while they fit in the max batch.
     * Batches leave the batcher at max-delay whether or not the backend is free; while it is busy
     * they queue here, and running them one by one would pad each small batch to its bucket and
     * spend the GPU on padding just when it is the bottleneck (as Triton's dynamic batcher, the
     * batch is formed when an instance is free). Their dispatcher turns then find nothing to run.
     */
    private void joinWaitingBatches(List<PendingRequest> batch) {
        List<PendingRequest> next;
        while ((next = waiting.peek()) != null) {
            next.removeIf(this::timedOut);
            if (batch.size() + next.size() > signature.maxBatchSize()) {
                return;
            }
            batch.addAll(waiting.poll());
        }
    }

    /** Copies one request's inputs into row {@code row} of the batch's input buffers. */
    static void putRow(ModelSignature signature, DecodedRequest request, BatchBuffers buffers, int row) {
        ByteBuffer[] inputs = request.inputs();
        for (int i = 0; i < inputs.length; i++) {
            int bytes = signature.inputs().get(i).sampleBytes();
            buffers.input(i).put(row * bytes, inputs[i], inputs[i].position(), bytes);
        }
    }

    private void complete(List<PendingRequest> batch, BatchBuffers buffers, BatchRun run, long batchStart) {
        long now = System.nanoTime();
        metrics.batchDone(run.rows(), run.executedRows(), run.computeNanos() / 1000);
        for (int row = 0; row < batch.size(); row++) {
            PendingRequest pending = batch.get(row);
            if (inFlight.remove(pending.future()) != null) {
                InferenceOutcome outcome = encoder.encode(pending, row, buffers, run, batchStart, now);
                pending.future().complete(Collections.singletonList(outcome));
                metrics.requestDone((batchStart - pending.arrivalNanos()) / 1000, (now - pending.arrivalNanos()) / 1000);
            }
        }
        metrics.batchAnswered((System.nanoTime() - now) / 1000);
    }

    private void fail(ResultFuture<InferenceOutcome> future, ErrorCode code, String message, byte[] payload) {
        String id = inFlight.remove(future);
        if (id != null) {
            metrics.failed(code);
            future.complete(Collections.singletonList(
                    Outcomes.failure(id.isEmpty() ? null : id, code, message, signature.modelName(), payload)));
        }
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause != cause.getCause()) {
            cause = cause.getCause();
        }
        return cause instanceof BackendException ? cause.getMessage() : cause.toString();
    }

    @Override
    public void close() throws Exception {
        if (batcher != null) {
            batcher.close();
        }
        if (dispatcher != null) {
            dispatcher.shutdownNow();
            dispatcher.awaitTermination(30, TimeUnit.SECONDS);
        }
        if (metrics != null) {
            LOG.info("Closing {} on {}: {}", signature.modelName(), runner.backendName(), metrics.summary());
        }
        if (runner != null) {
            runner.close();
        }
        if (device != null) {
            device.close();
        }
    }
}
