package io.flinktrt.jobs.sql;

import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.ReportedMetrics;
import io.flinktrt.testing.TestModels;

import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ML_PREDICT meters its slot as the DataStream operator does (both open it through InferenceSlot):
 * queue, copy-in, compute, copy-out, padding and pending rows, not only counts.
 */
@Timeout(120)
class MlPredictMetricsITCase {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.withReporter(1, REPORTER);

    @Test
    void reportsTheOperatorsMetrics() throws Exception {
        int rows = 12;
        TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tables.getConfig().set("parallelism.default", "1");
        tables.executeSql(
                "CREATE TEMPORARY VIEW pairs AS SELECT * FROM (VALUES "
                        + IntStream.range(0, rows)
                                .mapToObj(
                                        i ->
                                                "('r"
                                                        + i
                                                        + "', CAST(ARRAY[1, 2, 3, 4, 5, 6, 7, "
                                                        + i
                                                        + "] AS ARRAY<FLOAT>),"
                                                        + " CAST(ARRAY[0, 0, 0, 0, 0, 0, 0, 0] AS ARRAY<FLOAT>))")
                                .collect(Collectors.joining(", "))
                        + ") AS t(id, a, b)");
        tables.executeSql(
                "CREATE MODEL m INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>)"
                        + " OUTPUT (mix ARRAY<FLOAT>, distance FLOAT)"
                        + " WITH ('provider' = 'onnxruntime', 'model' = '"
                        + TestModels.path(TestModels.TWO_IN_TWO_OUT)
                        + "', 'max-batch' = '4')");
        tables.executeSql(
                "CREATE TABLE out_rows (id STRING, distance FLOAT) WITH ('connector' = 'blackhole')");
        TableResult insert =
                tables.executeSql(
                        "INSERT INTO out_rows SELECT id, distance FROM ML_PREDICT("
                                + "TABLE pairs, MODEL m, DESCRIPTOR(a, b))");
        JobID job = insert.getJobClient().orElseThrow().getJobID();
        insert.await();

        ReportedMetrics metrics = new ReportedMetrics(REPORTER.getMetricsByIdentifiers(job));
        assertThat(metrics.counter("inference_count")).isEqualTo(rows);
        long batches = metrics.counter("inference_exec_count");
        assertThat(batches).isBetween((long) rows / 4, (long) rows);
        assertThat(metrics.histogram("queue_duration_us").getCount()).isEqualTo(rows);
        assertThat(metrics.histogram("request_duration_us").getCount()).isEqualTo(rows);
        for (String perBatch :
                new String[] {
                    "batch_size",
                    "compute_input_duration_us",
                    "compute_infer_duration_us",
                    "compute_output_duration_us"
                }) {
            Histogram histogram = metrics.histogram(perBatch);
            assertThat(histogram.getCount()).as(perBatch).isEqualTo(batches);
        }
        assertThat(metrics.gauge("pending_requests")).isEqualTo(0);
        assertThat(metrics.gauge("padding_waste"))
                .isEqualTo(0.0); // ONNX Runtime runs the rows given
        assertThat(metrics.counter("code.TIMEOUT.inference_request_failure")).isZero();
        assertThat(metrics.counter("bad_rows")).isZero();
    }
}
