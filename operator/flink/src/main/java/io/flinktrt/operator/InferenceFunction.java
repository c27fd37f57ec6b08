package io.flinktrt.operator;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.RowFailedException;
import io.flinktrt.batching.ScheduledRecord;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.slot.InferenceSlot;
import io.flinktrt.slot.ServedVersion;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.util.InstantiationUtil;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs a model on a stream, in batches: each record is prepared by the {@link InferenceTranslator}
 * on the task thread, queued in the slot's {@link BatchScheduler}, and emitted when its batch
 * completes (see docs/architecture.md for the whole path). Per record the operator adds one object
 * ({@code InFlight}) to what the translator prepares.
 *
 * <p>Each record's {@link ResultFuture} stays open until its batch completes, so records still in
 * flight sit in Flink's async operator queue: a checkpoint stores them and a restore replays them.
 * Rejected records, timeouts and records the backend fails on become the translator's failure
 * outputs; they never fail the job.
 *
 * @param <IN> records in (serialized requests for {@link #builder()}'s default translator)
 * @param <OUT> records out, results and failures alike
 */
@PublicEvolving
public final class InferenceFunction<IN, OUT> extends RichAsyncFunction<IN, OUT>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferenceFunction.class);

    /** Capacity when neither it nor the max batch size is configured. */
    static final int DEFAULT_CAPACITY = 256;

    private final InferenceConfig config;

    /**
     * The prepared type is the translator's business: here it is only handed from prepare to the
     * scheduler. Never opened itself: each model version gets a copy, opened for it.
     */
    private final InferenceTranslator<IN, Object, OUT> translator;

    private transient InferenceSlot<Object, OUT> slot;

    /**
     * Whether the job checkpoints, as {@link #applyTo} saw it: without checkpoints a new model
     * version takes over as soon as it is ready.
     */
    private boolean checkpointing = true;

    /** Records submitted and not yet emitted, by their Flink future (a timeout completes them). */
    private transient Map<ResultFuture<OUT>, InFlight> inFlight;

    @SuppressWarnings("unchecked")
    InferenceFunction(InferenceConfig config, InferenceTranslator<IN, ?, OUT> translator) {
        this.config = config;
        this.translator = (InferenceTranslator<IN, Object, OUT>) translator;
    }

    public static InferenceFunctionBuilder builder() {
        return new InferenceFunctionBuilder();
    }

    /** Records the async operator holds in flight: configured, or derived from the max batch. */
    public int capacity() {
        return config.capacity() > 0
                ? config.capacity()
                : config.maxBatchSize() > 0
                        ? config.effectiveCapacity(config.maxBatchSize())
                        : DEFAULT_CAPACITY;
    }

    /**
     * Puts this function on {@code input} with the configured capacity, timeout and output order.
     */
    public SingleOutputStreamOperator<OUT> applyTo(DataStream<IN> input) {
        checkpointing =
                input.getExecutionEnvironment().getCheckpointConfig().isCheckpointingEnabled();
        int capacity = capacity();
        long timeoutMs = config.timeout().toMillis();
        SingleOutputStreamOperator<OUT> outputs =
                config.ordered()
                        ? AsyncDataStream.orderedWait(
                                input, this, timeoutMs, TimeUnit.MILLISECONDS, capacity)
                        : AsyncDataStream.unorderedWait(
                                input, this, timeoutMs, TimeUnit.MILLISECONDS, capacity);
        return outputs.returns(translator.getProducedType()).name(config.name()).uid(config.uid());
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        inFlight = new ConcurrentHashMap<>();
        slot =
                InferenceSlot.open(
                        config,
                        null,
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                        getRuntimeContext().getExternalResourceInfos(config.gpuResource()),
                        getRuntimeContext().getMetricGroup(),
                        () -> inFlight.size(),
                        (signature, backendName, served) -> {
                            InferenceTranslator<IN, Object, OUT> copy =
                                    InstantiationUtil.clone(
                                            translator,
                                            getRuntimeContext().getUserCodeClassLoader());
                            copy.open(signature, backendName, served);
                            return copy;
                        });
        ModelSignature signature = slot.signature();
        if (config.capacity() == 0
                && config.maxBatchSize() == 0
                && DEFAULT_CAPACITY < 2 * signature.maxBatchSize()) {
            LOG.warn(
                    "Async capacity {} is less than twice the model's max batch {}: batches cannot overlap."
                            + " Set {} or {}.",
                    DEFAULT_CAPACITY,
                    signature.maxBatchSize(),
                    InferenceOptions.MAX_BATCH_SIZE.key(),
                    InferenceOptions.CAPACITY.key());
        }
    }

    /**
     * A version the repository asked for and the watcher prepared takes over here: records after
     * this checkpoint's barrier go to it.
     */
    @Override
    public void snapshotState(FunctionSnapshotContext context) {
        slot.checkpointBoundary(context.getCheckpointId());
    }

    /**
     * No state of its own: records in flight are the async operator's, the version the policy's.
     */
    @Override
    public void initializeState(FunctionInitializationContext context) {}

    @Override
    public void asyncInvoke(IN input, ResultFuture<OUT> result) {
        long arrival = System.nanoTime();
        if (!checkpointing) {
            slot.takeOverNow();
        }
        InferenceTranslator<IN, Object, OUT> primary = translator(slot.primary());
        Object prepared;
        try {
            prepared = primary.prepare(input, arrival);
        } catch (RequestRejectedException e) {
            reject(input, result, e);
            return;
        } catch (RuntimeException e) {
            reject(
                    input,
                    result,
                    new RequestRejectedException(
                            ErrorCode.UNDECODABLE,
                            "The translator could not prepare this record: " + e));
            return;
        }
        ServedVersion<Object, OUT> version = slot.route(primary.routingKey(prepared));
        InFlight record = new InFlight(input, prepared, result, arrival, version);
        inFlight.put(result, record);
        version.submit(record);
    }

    /** The translator copy opened for {@code version}. */
    @SuppressWarnings("unchecked")
    private InferenceTranslator<IN, Object, OUT> translator(ServedVersion<Object, OUT> version) {
        return (InferenceTranslator<IN, Object, OUT>) version.codec();
    }

    @Override
    public void timeout(IN input, ResultFuture<OUT> result) {
        InFlight record = inFlight.get(result);
        if (record != null) { // else its result is on its way out
            record.fail(
                    new TimedOut(
                            "No result within "
                                    + config.timeout()
                                    + "; the backend is slower than the stream or stalled."));
        }
    }

    private void reject(IN input, ResultFuture<OUT> result, RequestRejectedException rejection) {
        slot.failed(rejection.code());
        result.complete(
                Collections.singletonList(translator(slot.primary()).rejected(input, rejection)));
    }

    /**
     * A record in the scheduler, with what Flink waits on; it emits the record's output or its
     * failure, on whichever thread completed it (exactly once): the one place a record leaves.
     */
    private final class InFlight extends ScheduledRecord<Object, OUT> {
        private final IN input;
        private final ResultFuture<OUT> result;
        private final ServedVersion<Object, OUT> version;

        InFlight(
                IN input,
                Object prepared,
                ResultFuture<OUT> result,
                long arrivalNanos,
                ServedVersion<Object, OUT> version) {
            super(prepared, arrivalNanos);
            this.input = input;
            this.result = result;
            this.version = version;
        }

        @Override
        protected void onOutput(OUT output) {
            inFlight.remove(result);
            result.complete(Collections.singletonList(output));
        }

        @Override
        protected void onFailure(Throwable error) {
            inFlight.remove(result);
            RowRejectedException rejected =
                    error.getCause() instanceof RowRejectedException r ? r : null;
            ErrorCode code =
                    rejected != null
                            ? rejected.rejection().code()
                            : error instanceof TimedOut
                                    ? ErrorCode.TIMEOUT
                                    : ErrorCode.BACKEND_ERROR;
            version.failed(code);
            String message =
                    rejected != null
                            ? rejected.getMessage()
                            : error instanceof TimedOut || error instanceof RowFailedException
                                    ? error.getMessage()
                                    : error.toString();
            result.complete(
                    Collections.singletonList(
                            translator(version).failed(input, record(), code, message)));
        }
    }

    /** Completes a record's future when Flink's timeout fires first. */
    private static final class TimedOut extends Exception {
        private static final long serialVersionUID = 1L;

        TimedOut(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    public void close() throws Exception {
        if (slot != null) {
            slot.close();
        }
    }
}
