package io.flinktrt.batching;

import io.flinktrt.batching.BatchSchedulerTest.FloatCodec;
import io.flinktrt.batching.BatchSchedulerTest.Output;
import io.flinktrt.testing.TestModels;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a user's log gets when the backend fails batches: one WARN line per failed batch, however
 * many retries its bisection ran, and a stack trace at most once per JVM (a stream of bad records
 * must not flood the log with traces).
 */
@Timeout(60)
class BatchFailureLogTest {

    private static final int ROWS = 16;

    @Test
    void eachFailedBatchLogsOneLineAndAtMostOneTraceIsLogged() throws Exception {
        List<LogEvent> lines = new CopyOnWriteArrayList<>();
        Logger logger = (Logger) LogManager.getLogger(RunningBatch.class);
        AbstractAppender appender =
                new AbstractAppender("batch-failures", null, null, true, Property.EMPTY_ARRAY) {
                    @Override
                    public void append(LogEvent event) {
                        lines.add(event.toImmutable());
                    }
                };
        appender.start();
        logger.addAppender(appender);
        try (ControlledRunner runner =
                        new ControlledRunner(TestModels.path(TestModels.MLP), ROWS, 1);
                BatchScheduler<float[], Output> scheduler =
                        new BatchScheduler<>(
                                runner,
                                new FloatCodec(runner),
                                new BatchingConfig("log-test", ROWS, Duration.ofHours(1)),
                                BatchListener.NONE)) {
            for (int batch = 0; batch < 3; batch++) {
                // a full batch leaves at once; one poisoned row makes it fail and split 8 times
                List<CompletableFuture<Output>> futures = new ArrayList<>();
                for (int i = 0; i < ROWS; i++) {
                    float[] sample = BatchSchedulerTest.sample(batch * ROWS + i);
                    if (i == 3) {
                        sample[0] = ControlledRunner.POISON;
                    }
                    futures.add(scheduler.submit(sample));
                }
                CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                        .handle((ignored, error) -> null)
                        .join();
                assertThat(futures.stream().filter(CompletableFuture::isCompletedExceptionally))
                        .hasSize(1);
            }
            assertThat(runner.failedRuns()).isEqualTo(3 * 5);
        } finally {
            logger.removeAppender(appender);
            appender.stop();
        }

        List<LogEvent> warnings = lines.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        assertThat(warnings)
                .as("one line per failed batch")
                .hasSize(3)
                .allSatisfy(
                        e ->
                                assertThat(e.getMessage().getFormattedMessage())
                                        .contains("failed a batch of 16 records")
                                        .contains("1 record(s) failed, 15 got results"));
        assertThat(warnings.stream().filter(e -> e.getThrown() != null))
                .as("stack traces (at most one per JVM)")
                .hasSizeLessThanOrEqualTo(1);
        assertThat(warnings.subList(1, 3)).allSatisfy(e -> assertThat(e.getThrown()).isNull());
    }
}
