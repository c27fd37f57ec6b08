package io.flinktrt.sql;

import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.operator.SlotModel;

import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * ML_PREDICT on one subtask: each row's future completes when its batch completes, through the same
 * {@link BatchScheduler} as the DataStream operator's requests. Until then the row sits in Flink's
 * async operator queue, so a checkpoint stores it and a restore replays it. Public: the planner's
 * generated code refers to it.
 */
public final class InferencePredictFunction extends AsyncPredictFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferencePredictFunction.class);

    /** Bad rows logged one by one before the log only counts them. */
    private static final int LOGGED_BAD_ROWS = 10;

    private final String modelName;
    private final PredictSettings settings;
    private final RowTensorCodec codec;

    private transient SlotModel model;
    private transient ModelRunner runner;
    private transient BatchScheduler<ByteBuffer[], RowData> scheduler;
    private transient PredictMetrics metrics;

    InferencePredictFunction(String modelName, PredictSettings settings, RowTensorCodec codec) {
        this.modelName = modelName;
        this.settings = settings;
        this.codec = codec;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        int subtask = context.getTaskInfo().getIndexOfThisSubtask();
        model =
                SlotModel.open(
                        settings.backend(),
                        settings.model(),
                        context.getExternalResourceInfos(settings.gpuResource()),
                        settings.device(),
                        settings::modelConfig);
        runner = model.runner();
        checkSameModel(runner.signature());
        metrics = new PredictMetrics(context.getMetricGroup());
        scheduler =
                new BatchScheduler<>(
                        runner,
                        codec,
                        new BatchingConfig(
                                modelName + "-" + subtask,
                                runner.signature().maxBatchSize(),
                                settings.maxDelay()),
                        metrics);
        LOG.info(
                "Subtask {} runs model {} ({}) on {} (device {} from {}); {}; max batch {}, max delay {}",
                subtask,
                modelName,
                settings.model(),
                runner.backendName(),
                model.deviceIndex(),
                model.deviceSource(),
                model.backendChoice(),
                runner.signature().maxBatchSize(),
                settings.maxDelay());
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
        ByteBuffer[] samples;
        try {
            samples = codec.prepare(row);
        } catch (BadRowException e) {
            return CompletableFuture.completedFuture(badRow(e.getMessage(), e));
        }
        return scheduler
                .submit(samples)
                .orTimeout(
                        settings.rowTimeout().toMillis(),
                        TimeUnit.MILLISECONDS) // drops it from its queue
                .handle(
                        (output, error) ->
                                error == null ? List.of(output) : badRow(reason(error), error));
    }

    /**
     * A bad row's output: its row with null outputs and the reason, or (FAILOVER) the job's
     * failure.
     */
    private Collection<RowData> badRow(String reason, Throwable cause) {
        long count = metrics.badRow();
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

    private String reason(Throwable error) {
        Throwable cause =
                error instanceof CompletionException && error.getCause() != null
                        ? error.getCause()
                        : error;
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
            if (scheduler != null) {
                scheduler.close();
            }
            if (model != null) {
                model.close();
            }
        } finally {
            super.close();
        }
    }
}
