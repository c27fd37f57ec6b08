package io.flinktrt.slot;

import io.flinktrt.backend.BatchRun;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The operator's metrics, in group {@code inference}, named after Triton's where the meaning is the
 * same ({@code inference_count} = requests, {@code inference_exec_count} = batches).
 */
final class InferenceMetrics implements BatchListener {

    static final String GROUP = "inference";
    private static final int HISTOGRAM_WINDOW = 10_000;

    private final Counter inferences;
    private final Counter executions;
    private final Map<ErrorCode, Counter> failures = new EnumMap<>(ErrorCode.class);
    private final Histogram batchSize;
    private final Histogram queueMicros;
    private final Histogram inputMicros;
    private final Histogram computeMicros;
    private final Histogram outputMicros;
    private final Histogram requestMicros;
    private final AtomicLong executedRows = new AtomicLong();
    private final AtomicLong paddedRows = new AtomicLong();
    private final AtomicLong rowPositions = new AtomicLong();
    private final AtomicLong paddedPositions = new AtomicLong();

    InferenceMetrics(MetricGroup parent, IntSupplier pendingRequests) {
        MetricGroup group = parent.addGroup(GROUP);
        inferences = group.counter("inference_count");
        executions = group.counter("inference_exec_count");
        for (ErrorCode code : ErrorCode.values()) {
            failures.put(
                    code, group.addGroup("code", code.name()).counter("inference_request_failure"));
        }
        batchSize = histogram(group, "batch_size");
        queueMicros = histogram(group, "queue_duration_us");
        inputMicros = histogram(group, "compute_input_duration_us");
        computeMicros = histogram(group, "compute_infer_duration_us");
        outputMicros = histogram(group, "compute_output_duration_us");
        requestMicros = histogram(group, "request_duration_us");
        group.gauge("pending_requests", pendingRequests::getAsInt);
        group.gauge("padding_waste", this::paddingWaste);
        group.gauge("sequence_padding_waste", this::sequencePaddingWaste);
    }

    /** A histogram over the last {@value #HISTOGRAM_WINDOW} values, registered on {@code group}. */
    static Histogram histogram(MetricGroup group, String name) {
        return group.histogram(name, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    }

    void failed(ErrorCode code) {
        failures.get(code).inc();
    }

    @Override
    public void batchFilled(long micros) {
        inputMicros.update(micros);
    }

    @Override
    public void batchAnswered(long micros) {
        outputMicros.update(micros);
    }

    @Override
    public void batchDone(BatchRun run) {
        executions.inc();
        batchSize.update(run.rows());
        computeMicros.update(run.computeNanos() / 1000);
        executedRows.addAndGet(run.executedRows());
        paddedRows.addAndGet(run.executedRows() - run.rows());
        if (run.executedLength() > 0) {
            long positions = (long) run.rows() * run.executedLength();
            rowPositions.addAndGet(positions);
            paddedPositions.addAndGet(positions - run.tokens());
        }
    }

    @Override
    public void recordDone(long queueMicros, long totalMicros) {
        inferences.inc();
        this.queueMicros.update(queueMicros);
        requestMicros.update(totalMicros);
    }

    /** Means over the histograms' recent window, for the log when the operator closes. */
    String summary() {
        return String.format(
                "%d batches, %d requests; recent means: batch %.1f rows, queue %.2f ms, fill %.2f ms,"
                        + " on the backend %.2f ms, results %.2f ms; padding %.1f%% of rows,"
                        + " %.1f%% of the real rows' positions",
                executions.getCount(),
                inferences.getCount(),
                batchSize.getStatistics().getMean(),
                queueMicros.getStatistics().getMean() / 1000,
                inputMicros.getStatistics().getMean() / 1000,
                computeMicros.getStatistics().getMean() / 1000,
                outputMicros.getStatistics().getMean() / 1000,
                paddingWaste() * 100,
                sequencePaddingWaste() * 100);
    }

    /** Fraction of the rows computed so far that were padding. */
    double paddingWaste() {
        long executed = executedRows.get();
        return executed == 0 ? 0 : (double) paddedRows.get() / executed;
    }

    /**
     * Fraction of the positions computed for real rows that were padding (past a row's own tokens,
     * up to its batch's length); 0 for a model without a sequence axis.
     */
    double sequencePaddingWaste() {
        long positions = rowPositions.get();
        return positions == 0 ? 0 : (double) paddedPositions.get() / positions;
    }
}
