package io.flinktrt.slot;

import io.flinktrt.backend.BatchRun;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;

/**
 * One model version's share of the slot's metrics, in group {@code inference.version.<n>} (a {@code
 * version} label in Prometheus), so that a canary and the version it may replace compare side by
 * side; everything also counts in the slot's {@link InferenceMetrics}.
 */
final class VersionMetrics implements BatchListener {

    private final InferenceMetrics slot;
    private final Counter inferences;
    private final Counter executions;
    private final Counter failures;
    private final Histogram computeMicros;
    private final Histogram requestMicros;

    /**
     * @param parent where to register them; null for a model given as a file (no versions: the
     *     slot's metrics say it all)
     */
    VersionMetrics(MetricGroup parent, long version, InferenceMetrics slot) {
        this.slot = slot;
        MetricGroup group =
                parent == null
                        ? new UnregisteredMetricsGroup()
                        : parent.addGroup(InferenceMetrics.GROUP)
                                .addGroup("version", Long.toString(version));
        inferences = group.counter("inference_count");
        executions = group.counter("inference_exec_count");
        failures = group.counter("inference_request_failure");
        computeMicros = InferenceMetrics.histogram(group, "compute_infer_duration_us");
        requestMicros = InferenceMetrics.histogram(group, "request_duration_us");
    }

    void failed(ErrorCode code) {
        failures.inc();
        slot.failed(code);
    }

    @Override
    public void batchFilled(long micros) {
        slot.batchFilled(micros);
    }

    @Override
    public void batchAnswered(long micros) {
        slot.batchAnswered(micros);
    }

    @Override
    public void batchDone(BatchRun run) {
        executions.inc();
        computeMicros.update(run.computeNanos() / 1000);
        slot.batchDone(run);
    }

    @Override
    public void recordDone(long queueMicros, long totalMicros) {
        inferences.inc();
        requestMicros.update(totalMicros);
        slot.recordDone(queueMicros, totalMicros);
    }
}
