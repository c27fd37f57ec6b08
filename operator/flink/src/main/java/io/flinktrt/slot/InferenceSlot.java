package io.flinktrt.slot;

import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.batching.ScheduledRecord;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.metrics.MetricGroup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntSupplier;

/**
 * One task slot's model, as both front doors (the DataStream {@code InferenceFunction} and
 * ML_PREDICT's predict function) open, meter and close it: the backend and GPU of {@link
 * SlotModel}, the {@code inference} metrics, and the {@link BatchScheduler} that forms batches.
 * Closing stops the scheduler, then frees the runner and the GPU claim, even when a step throws.
 *
 * @param <P> a record as the codec prepared it
 * @param <OUT> a record's output
 */
@Internal
public final class InferenceSlot<P, OUT> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceSlot.class);

    /** The metric group of the slot's metrics (named after Triton's: docs/operations.md). */
    public static final String METRIC_GROUP = InferenceMetrics.GROUP;

    /** Binds the front door's codec to the model the slot opened, or refuses it. */
    @FunctionalInterface
    public interface CodecBinding<P, OUT> {
        RowCodec<P, OUT> bind(ModelSignature signature, String backendName) throws Exception;
    }

    private final String name;
    private final SlotModel model;
    private final InferenceMetrics metrics;
    private final BatchScheduler<P, OUT> scheduler;

    private InferenceSlot(
            String name,
            SlotModel model,
            InferenceMetrics metrics,
            BatchScheduler<P, OUT> scheduler) {
        this.name = name;
        this.model = model;
        this.metrics = metrics;
        this.scheduler = scheduler;
    }

    /**
     * Opens the model for subtask {@code subtask}.
     *
     * @param name the model's name in logs and thread names; null for the model file's name
     * @param gpus the GPUs Flink assigned the slot under {@link SlotSettings#gpuResource()}
     * @param pendingRecords records submitted and not yet answered, for the metrics
     */
    public static <P, OUT> InferenceSlot<P, OUT> open(
            SlotSettings settings,
            String name,
            int subtask,
            Collection<ExternalResourceInfo> gpus,
            MetricGroup metricGroup,
            IntSupplier pendingRecords,
            CodecBinding<P, OUT> binding)
            throws Exception {
        SlotModel model =
                SlotModel.open(
                        settings.backend(),
                        settings.model(),
                        gpus,
                        settings.device(),
                        settings::modelConfig);
        try {
            ModelRunner runner = model.runner();
            ModelSignature signature = runner.signature();
            String label = name != null ? name : signature.modelName();
            RowCodec<P, OUT> codec = binding.bind(signature, runner.backendName());
            InferenceMetrics metrics = new InferenceMetrics(metricGroup, pendingRecords);
            BatchScheduler<P, OUT> scheduler =
                    new BatchScheduler<>(
                            runner,
                            codec,
                            new BatchingConfig(
                                    label + "-" + subtask,
                                    signature.maxBatchSize(),
                                    settings.maxDelay()),
                            metrics);
            LOG.info(
                    "Subtask {} runs {} ({}) on {} (device {} from {}); {}; max batch {}, max delay {}",
                    subtask,
                    label,
                    settings.model(),
                    runner.backendName(),
                    model.deviceIndex(),
                    model.deviceSource(),
                    model.backendChoice(),
                    signature.maxBatchSize(),
                    settings.maxDelay());
            return new InferenceSlot<>(label, model, metrics, scheduler);
        } catch (Exception | Error e) {
            model.close();
            throw e;
        }
    }

    public ModelSignature signature() {
        return model.runner().signature();
    }

    /** Queues a record; its future completes with its output or fails with why. */
    public CompletableFuture<OUT> submit(P record) {
        return scheduler.submit(record);
    }

    /** Queues a record that completes itself (exactly one completion wins). */
    public void submit(ScheduledRecord<P, OUT> record) {
        scheduler.submit(record);
    }

    /** Counts a record that ended without an output, by why. */
    public void failed(ErrorCode code) {
        metrics.failed(code);
    }

    @Override
    public void close() {
        try {
            scheduler.close();
        } finally {
            LOG.info("Closing {} on {}: {}", name, model.runner().backendName(), metrics.summary());
            model.close();
        }
    }
}
