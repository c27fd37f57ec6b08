package io.flinktrt.tools.local;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.jobs.InferenceJob;
import io.flinktrt.jobs.kafka.BadRequests;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.jobs.kafka.RequestProducer;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.wire.RandomRequests;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * Runs the job in a local Flink inside this JVM, sends requests, and reads every outcome back: the
 * round trip the {@code local} command and the benchmarks report on.
 */
public final class LocalRun {

    /** Distinct random samples a run cycles through. */
    private static final int DISTINCT_SAMPLES = 64;

    private final InferenceJob job;
    private final ModelSignature signature;
    private final Properties client;
    private final String inputTopic;
    private final String outputTopic;
    private final String deadLetterTopic;
    private final int parallelism;
    private final String runId;

    /** Request i of a run (its id is set by the run); null: random requests for the model. */
    private IntFunction<InferenceRequest> requestAt;

    public LocalRun(
            InferenceJob job,
            ModelSignature signature,
            Properties client,
            String inputTopic,
            String outputTopic,
            String deadLetterTopic,
            int parallelism,
            String runId) {
        this.job = job;
        this.signature = signature;
        this.client = client;
        this.inputTopic = inputTopic;
        this.outputTopic = outputTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.parallelism = parallelism;
        this.runId = runId;
    }

    /** Sends {@code requestAt.apply(i)} as request i instead of random requests. */
    public LocalRun sending(IntFunction<InferenceRequest> requestAt) {
        this.requestAt = requestAt;
        return this;
    }

    /**
     * Checkpoints to a temporary folder: the async operator's checkpoint holds the requests in
     * flight (hundreds of 600 KB images), far above the 5 MB the JobManager's memory storage takes.
     */
    private static Configuration checkpointsOnDisk() throws IOException {
        Path dir = Files.createTempDirectory("flink-tensorrt-checkpoints");
        Configuration config = new Configuration();
        config.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        config.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
        return config;
    }

    /**
     * @param swap a version to ship into the repository while requests stream; null for none
     * @param device the GPU whose memory the swap's report follows
     */
    public LocalRunReport run(
            int requests,
            int badRequests,
            int ratePerSecond,
            int intRange,
            int waitSeconds,
            SwapRehearsal swap,
            int device)
            throws Exception {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism, checkpointsOnDisk());
        job.addTo(env);
        JobClient flink = env.executeAsync("flink-tensorrt local " + runId);
        System.out.println(
                "Flink job " + flink.getJobID() + " started (parallelism " + parallelism + ")");
        ExecutorService shipper = Executors.newSingleThreadExecutor();
        try (OutcomeReader reader = new OutcomeReader(client, outputTopic, deadLetterTopic, false);
                RequestProducer producer = new RequestProducer(client, inputTopic);
                GpuMemoryTimeline memory = new GpuMemoryTimeline(device)) {
            LocalRunReport report = new LocalRunReport(requests, badRequests);
            Map<String, Long> sentAt = new ConcurrentHashMap<>(requests + badRequests);
            RandomRequests random = new RandomRequests(signature, intRange, 42);
            // Drawing 150,528 Gaussian floats per image takes longer than sending it: cycle through
            // a few drawn samples, each sent under its own id.
            InferenceRequest[] samples = new InferenceRequest[DISTINCT_SAMPLES];
            for (int i = 0; i < samples.length; i++) {
                samples[i] = random.next("sample-" + i);
            }
            IntFunction<InferenceRequest> next =
                    requestAt != null ? requestAt : i -> samples[i % samples.length];
            InferenceRequest template =
                    requestAt != null ? requestAt.apply(0) : random.next(runId + "-warmup");
            template.setId(runId + "-warmup");
            warmUp(producer, reader, template, waitSeconds);
            for (BadRequests.Bad bad :
                    new BadRequests().some(template, runId + "-bad", badRequests)) {
                report.expectFailure(bad.id(), bad.expected());
                sentAt.put(bad.id(), System.nanoTime());
                producer.sendRaw(bad.id(), bad.payload());
            }
            long start = System.nanoTime();
            report.started(start);
            long deadline = start + TimeUnit.SECONDS.toNanos(waitSeconds);
            // Results are read on their own thread, so a read time is when the result arrived.
            ExecutorService readerThread = Executors.newSingleThreadExecutor();
            Future<?> reading =
                    readerThread.submit(
                            () -> {
                                while (!report.allReceived() && System.nanoTime() < deadline) {
                                    reader.poll(
                                            Duration.ofMillis(50),
                                            outcome -> report.add(outcome, sentAt));
                                }
                            });
            try {
                long nextProgress = start + TimeUnit.SECONDS.toNanos(2);
                Future<?> shipping = null;
                for (int i = 0; i < requests; i++) {
                    if (ratePerSecond > 0) {
                        pace(start, i, ratePerSecond);
                    }
                    if (swap != null
                            && shipping == null
                            && System.nanoTime() - start >= swap.afterNanos()) {
                        shipping =
                                shipper.submit(
                                        () -> {
                                            long version = swap.ship();
                                            report.shipped(version, System.nanoTime());
                                            System.out.println(
                                                    "  shipped version "
                                                            + version
                                                            + " into "
                                                            + swap.entry());
                                            return null;
                                        });
                    }
                    InferenceRequest request = next.apply(i);
                    request.setId(runId + "-" + i);
                    sentAt.put(request.getId(), System.nanoTime());
                    producer.send(request);
                    if (System.nanoTime() > nextProgress) {
                        System.out.printf(
                                "  sent %d/%d, received %d%n", i + 1, requests, report.received());
                        nextProgress += TimeUnit.SECONDS.toNanos(2);
                    }
                }
                producer.flush();
                while (!reading.isDone()) {
                    try {
                        reading.get(2, TimeUnit.SECONDS);
                    } catch (TimeoutException stillReading) {
                        System.out.printf(
                                "  sent %d/%d, received %d%n",
                                requests, requests, report.received());
                    }
                }
                reading.get();
                if (shipping != null) {
                    shipping.get();
                } else if (swap != null) {
                    System.out.println("  the run ended before the swap was due: nothing shipped");
                }
            } finally {
                readerThread.shutdownNow();
            }
            memory.close();
            report.printSwap(System.out, memory);
            return report;
        } finally {
            shipper.shutdownNow();
            flink.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Waits for one request's round trip, so the clock starts once the job reads and the model is
     * loaded.
     */
    private static void warmUp(
            RequestProducer producer,
            OutcomeReader reader,
            InferenceRequest request,
            int waitSeconds) {
        producer.send(request);
        producer.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        boolean[] back = {false};
        while (!back[0] && System.nanoTime() < deadline) {
            reader.poll(
                    Duration.ofMillis(100),
                    outcome -> back[0] |= request.getId().equals(outcome.id()));
        }
        if (!back[0]) {
            throw new IllegalStateException(
                    "The warm-up request did not come back within "
                            + waitSeconds
                            + " s: the job is not reading the input topic or not writing the output topic.");
        }
    }

    /** Open-loop pacing: request i leaves at start + i/rate, whether or not results keep up. */
    public static void pace(long start, int i, int ratePerSecond) throws InterruptedException {
        long due = start + (long) i * 1_000_000_000L / ratePerSecond;
        long wait = due - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
