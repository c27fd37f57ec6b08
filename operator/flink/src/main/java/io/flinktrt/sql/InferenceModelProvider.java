package io.flinktrt.sql;

import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.config.MLPredictRuntimeConfigOptions;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * A model planned for ML_PREDICT. Only asynchronous: rows wait for their batch in Flink's async
 * operator, which checkpoints and replays them; a synchronous call would run batches of one.
 */
final class InferenceModelProvider implements AsyncPredictRuntimeProvider {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceModelProvider.class);

    private final String modelName;
    private final PredictSettings settings;
    private final PredictCodec<?> codec;

    /** table.exec.async-ml-predict.timeout and .max-concurrent-operations of the session. */
    private final Duration sessionTimeout;

    private final int sessionConcurrency;

    InferenceModelProvider(
            String modelName,
            PredictSettings settings,
            PredictCodec<?> codec,
            Duration sessionTimeout,
            int sessionConcurrency) {
        this.modelName = modelName;
        this.settings = settings;
        this.codec = codec;
        this.sessionTimeout = sessionTimeout;
        this.sessionConcurrency = sessionConcurrency;
    }

    @Override
    public AsyncPredictFunction createAsyncPredictFunction(Context context) {
        Duration flinkTimeout =
                context.runtimeConfig()
                        .getOptional(MLPredictRuntimeConfigOptions.ASYNC_TIMEOUT)
                        .orElse(sessionTimeout);
        if (settings.rowTimeout().compareTo(flinkTimeout) >= 0) {
            throw new ValidationException(
                    String.format(
                            "Model %s: '%s' (%s) must be shorter than ML_PREDICT's"
                                    + " timeout (%s), or a slow row fails the job instead of being handled by '%s'. Lower"
                                    + " '%s', or raise ML_PREDICT's 'timeout' (or table.exec.async-ml-predict.timeout).",
                            modelName,
                            ModelProviderOptions.ROW_TIMEOUT.key(),
                            settings.rowTimeout(),
                            flinkTimeout,
                            ModelProviderOptions.ERROR_HANDLING_STRATEGY.key(),
                            ModelProviderOptions.ROW_TIMEOUT.key()));
        }
        int inFlight =
                context.runtimeConfig()
                        .getOptional(MLPredictRuntimeConfigOptions.ASYNC_MAX_CONCURRENT_OPERATIONS)
                        .orElse(sessionConcurrency);
        int maxBatch =
                settings.maxBatch() > 0 ? settings.maxBatch() : codec.signature().maxBatchSize();
        if (maxBatch > 0 && inFlight < 2 * maxBatch) {
            LOG.warn(
                    "Model {}: ML_PREDICT holds at most {} rows in flight per subtask, so a batch holds at most"
                            + " that many (max batch {}), and batches cannot overlap. Set 'max-concurrent-operations'"
                            + " in ML_PREDICT's config map (or table.exec.async-ml-predict.max-concurrent-operations)"
                            + " to (buffers + 1) x max batch = {}.",
                    modelName,
                    inFlight,
                    maxBatch,
                    (settings.buffers() + 1) * maxBatch);
        }
        return new InferencePredictFunction<>(modelName, settings, codec);
    }

    @Override
    public ModelProvider copy() {
        return new InferenceModelProvider(
                modelName, settings, codec, sessionTimeout, sessionConcurrency);
    }
}
