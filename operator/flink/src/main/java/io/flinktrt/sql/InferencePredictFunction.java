package io.flinktrt.sql;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.operator.RowRejectedException;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.slot.InferenceSlot;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * ML_PREDICT on one subtask: each row's future completes when its batch completes, through the same
 * {@link BatchScheduler} as the DataStream operator's requests. Until then the row sits in Flink's
 * async operator queue, so a checkpoint stores it and a restore replays it. Public: the planner's
 * generated code refers to it.
 */
@Internal
public final class InferencePredictFunction<P> extends AsyncPredictFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferencePredictFunction.class);

    /** Bad rows logged one by one before the log only counts them. */
    private static final int LOGGED_BAD_ROWS = 10;

    private final String modelName;
    private final PredictSettings settings;
    private final PredictCodec<P> codec;

    private transient InferenceSlot<P, RowData> slot;
    private transient AtomicInteger pendingRows;
    private transient Counter badRows;

    InferencePredictFunction(String modelName, PredictSettings settings, PredictCodec<P> codec) {
        this.modelName = modelName;
        this.settings = settings;
        this.codec = codec;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        pendingRows = new AtomicInteger();
        slot =
                InferenceSlot.open(
                        settings,
                        modelName,
                        context.getTaskInfo().getIndexOfThisSubtask(),
                        context.getExternalResourceInfos(settings.gpuResource()),
                        context.getMetricGroup(),
                        pendingRows::get,
                        (signature, backendName, served) -> {
                            checkSameModel(signature);
                            codec.open(signature);
                            return codec;
                        });
        // rows emitted with null outputs and the reason (ErrorHandlingStrategy.EMIT)
        badRows = context.getMetricGroup().addGroup(InferenceSlot.METRIC_GROUP).counter("bad_rows");
    }

    /** The model file here must have the tensors the statement was planned with. */
    private void checkSameModel(ModelSignature opened) {
        ModelSignature planned = codec.signature();
        if (!opened.inputs().equals(planned.inputs())
                || !opened.outputs().equals(planned.outputs())) {
            throw new IllegalStateException(
                    "Model "
                            + settings.model()
                            + " on this task manager has inputs "
                            + opened.inputs()
                            + " and outputs "
                            + opened.outputs()
                            + ", but the statement was planned with "
                            + planned.inputs()
                            + " and "
                            + planned.outputs()
                            + "; deploy the same model everywhere.");
        }
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData row) {
        P samples;
        try {
            samples = codec.prepare(row);
        } catch (BadRowException e) {
            return CompletableFuture.completedFuture(badRow(e.getMessage(), e));
        }
        pendingRows.incrementAndGet();
        return slot.submit(samples)
                .orTimeout(
                        settings.rowTimeout().toMillis(),
                        TimeUnit.MILLISECONDS) // drops it from its queue
                .handle(
                        (output, error) -> {
                            pendingRows.decrementAndGet();
                            if (error == null) {
                                return List.of(output);
                            }
                            RowRejectedException rejected = rejection(error);
                            if (rejected != null) { // a text found too long when tokenized
                                slot.failed(rejected.rejection().code());
                                return badRow(
                                        RowTextCodec.reason(
                                                rejected.rejection().code(), rejected.getMessage()),
                                        error);
                            }
                            slot.failed(
                                    rootCause(error) instanceof TimeoutException
                                            ? ErrorCode.TIMEOUT
                                            : ErrorCode.BACKEND_ERROR);
                            return badRow(reason(error), error);
                        });
    }

    /**
     * A bad row's output: its row with null outputs and the reason, or (FAILOVER) the job's
     * failure.
     */
    private Collection<RowData> badRow(String reason, Throwable cause) {
        badRows.inc();
        long count = badRows.getCount();
        if (settings.errorHandling() == ErrorHandlingStrategy.FAILOVER) {
            throw new CompletionException(
                    new IllegalArgumentException(
                            "Model "
                                    + modelName
                                    + ": "
                                    + reason
                                    + " ('"
                                    + ModelProviderOptions.ERROR_HANDLING_STRATEGY.key()
                                    + "' = 'FAILOVER')",
                            cause));
        }
        if (count <= LOGGED_BAD_ROWS) {
            LOG.warn(
                    "Model {}: bad row emitted with null outputs: {}{}",
                    modelName,
                    reason,
                    count == LOGGED_BAD_ROWS
                            ? " (further bad rows are only counted: metric inference.bad_rows)"
                            : "");
        }
        return List.of(codec.failedRow(reason));
    }

    /** The rejection of a row found unfit while written into its batch, if that is the error. */
    private static RowRejectedException rejection(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof RowRejectedException rejected) {
                return rejected;
            }
        }
        return null;
    }

    private static Throwable rootCause(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
    }

    private String reason(Throwable error) {
        Throwable cause = rootCause(error);
        if (cause instanceof TimeoutException) {
            return "no result within "
                    + settings.rowTimeout()
                    + " ('"
                    + ModelProviderOptions.ROW_TIMEOUT.key()
                    + "'); the backend is slower than the stream or stalled";
        }
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }

    @Override
    public void close() throws Exception {
        try {
            if (slot != null) {
                slot.close();
            }
        } finally {
            super.close();
        }
    }
}
