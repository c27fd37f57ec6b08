package io.flinktrt.jobs.local;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.InferenceJob;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Runs the job in a local Flink inside this JVM, sends requests, and reads every outcome back:
 * the round trip the {@code local} command and the benchmarks report on.
 */
public final class LocalRun {

    private final InferenceJob job;
    private final ModelSignature signature;
    private final Properties client;
    private final String inputTopic;
    private final String outputTopic;
    private final String deadLetterTopic;
    private final int parallelism;
    private final String runId;

    public LocalRun(InferenceJob job, ModelSignature signature, Properties client, String inputTopic,
                    String outputTopic, String deadLetterTopic, int parallelism, String runId) {
        this.job = job;
        this.signature = signature;
        this.client = client;
        this.inputTopic = inputTopic;
        this.outputTopic = outputTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.parallelism = parallelism;
        this.runId = runId;
    }

    public LocalRunReport run(int requests, int badRequests, int ratePerSecond, int intRange, int waitSeconds)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, new Configuration());
        job.addTo(env);
        JobClient flink = env.executeAsync("flink-tensorrt local " + runId);
        System.out.println("Flink job " + flink.getJobID() + " started (parallelism " + parallelism + ")");
        try (OutcomeReader reader = new OutcomeReader(client, outputTopic, deadLetterTopic, false);
             RequestProducer producer = new RequestProducer(client, inputTopic)) {
            LocalRunReport report = new LocalRunReport(requests, badRequests);
            Map<String, Long> sentAt = new HashMap<>(requests + badRequests);
            RandomRequests random = new RandomRequests(signature, intRange, 42);
            InferenceRequest template = random.next(runId + "-template");
            for (BadRequests.Bad bad : new BadRequests().some(template, runId + "-bad", badRequests)) {
                sentAt.put(bad.id(), System.nanoTime());
                producer.sendRaw(bad.id(), bad.payload());
                report.expectFailure(bad.id(), bad.expected());
            }
            long start = System.nanoTime();
            report.started(start);
            long nextProgress = start + TimeUnit.SECONDS.toNanos(2);
            for (int i = 0; i < requests; i++) {
                if (ratePerSecond > 0) {
                    pace(start, i, ratePerSecond);
                }
                InferenceRequest request = random.next(runId + "-" + i);
                sentAt.put(request.getId(), System.nanoTime());
                producer.send(request);
                if ((i & 255) == 0) {
                    reader.poll(Duration.ZERO, outcome -> report.add(outcome, sentAt));
                }
                if (System.nanoTime() > nextProgress) {
                    System.out.printf("  sent %d/%d, received %d%n", i + 1, requests, report.received());
                    nextProgress += TimeUnit.SECONDS.toNanos(2);
                }
            }
            producer.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
            while (!report.allReceived() && System.nanoTime() < deadline) {
                reader.poll(Duration.ofMillis(200), outcome -> report.add(outcome, sentAt));
                if (System.nanoTime() > nextProgress) {
                    System.out.printf("  sent %d/%d, received %d%n", requests, requests, report.received());
                    nextProgress += TimeUnit.SECONDS.toNanos(2);
                }
            }
            return report;
        } finally {
            flink.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    /** Open-loop pacing: request i leaves at start + i/rate, whether or not results keep up. */
    private static void pace(long start, int i, int ratePerSecond) throws InterruptedException {
        long due = start + (long) i * 1_000_000_000L / ratePerSecond;
        long wait = due - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
