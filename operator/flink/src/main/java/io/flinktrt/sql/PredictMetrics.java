package io.flinktrt.sql;

import io.flinktrt.backend.BatchRun;
import io.flinktrt.batching.BatchListener;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * ML_PREDICT's metrics in group {@code inference}, under the DataStream operator's names where the
 * meaning is the same: {@code inference_count} rows, {@code inference_exec_count} batches, {@code
 * batch_size}; plus {@code bad_rows}.
 */
final class PredictMetrics implements BatchListener {

    private static final int HISTOGRAM_WINDOW = 10_000;

    private final Counter rows;
    private final Counter batches;
    private final Counter badRows;
    private final Histogram batchSize;
    private final Histogram rowMicros;

    PredictMetrics(MetricGroup parent) {
        MetricGroup group = parent.addGroup("inference");
        rows = group.counter("inference_count");
        batches = group.counter("inference_exec_count");
        badRows = group.counter("bad_rows");
        batchSize =
                group.histogram("batch_size", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        rowMicros =
                group.histogram(
                        "request_duration_us",
                        new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    }

    @Override
    public void batchDone(BatchRun run) {
        batches.inc();
        batchSize.update(run.rows());
    }

    @Override
    public void recordDone(long queueMicros, long totalMicros) {
        rows.inc();
        rowMicros.update(totalMicros);
    }

    /** Counts a bad row; returns how many there were so far. */
    long badRow() {
        badRows.inc();
        return badRows.getCount();
    }
}
