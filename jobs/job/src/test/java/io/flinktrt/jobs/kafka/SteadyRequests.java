package io.flinktrt.jobs.kafka;

import io.flinktrt.repository.RepositoryVersions;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.wire.RandomRequests;

import org.apache.kafka.clients.producer.RecordMetadata;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random requests sent to the input topic in the background at a steady rate (ids {@code
 * <prefix>0}, {@code <prefix>1}, ...) until told to stop, each remembered with where it landed: its
 * partition and offset, from the broker's acknowledgement. A result carries no source position and
 * the output topics are partitioned by id, so that is how results are put back in the order in
 * which the job read their requests.
 */
public final class SteadyRequests implements AutoCloseable {

    private final RequestProducer producer;
    private final RandomRequests random;
    private final String prefix;
    private final int perSecond;
    private final int limit;
    private final Map<String, InferenceRequest> sent = new ConcurrentHashMap<>();
    private final Map<String, Future<RecordMetadata>> landed = new ConcurrentHashMap<>();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicInteger stopAt = new AtomicInteger(Integer.MAX_VALUE);
    private final ExecutorService sender = Executors.newSingleThreadExecutor();
    private final Future<Void> sending;

    /**
     * Starts sending {@code perSecond} requests a second through {@code producer}; more than {@code
     * limit} without a {@link #stopAfter} fails the sender.
     */
    public SteadyRequests(
            RequestProducer producer,
            RandomRequests random,
            String prefix,
            int perSecond,
            int limit) {
        this.producer = producer;
        this.random = random;
        this.prefix = prefix;
        this.perSecond = perSecond;
        this.limit = limit;
        this.sending = sender.submit(this::send);
    }

    private Void send() throws InterruptedException {
        long start = System.nanoTime();
        for (int i = 0; i < stopAt.get(); i++) {
            if (i == limit) {
                throw new IllegalStateException(limit + " requests sent and still not stopped");
            }
            InferenceRequest request = random.next(prefix + i);
            sent.put(request.getId(), request);
            landed.put(request.getId(), producer.send(request));
            count.set(i + 1);
            long wait = start + (long) (i + 1) * 1_000_000_000L / perSecond - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }
        producer.flush();
        return null;
    }

    /**
     * Sends {@code more} requests after those sent so far, then stops and waits until the broker
     * acknowledged every one: how many were sent in all.
     */
    public int stopAfter(int more, Duration timeout) throws Exception {
        stopAt.set(count.get() + more);
        sending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (producer.failedSends() > 0) {
            throw new AssertionError(producer.failedSends() + " requests were not acknowledged");
        }
        return count.get();
    }

    /** The request sent with this id. */
    public InferenceRequest request(String id) {
        return sent.get(id);
    }

    /** The ids sent so far. */
    public List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count.get(); i++) {
            ids.add(prefix + i);
        }
        return ids;
    }

    /**
     * The model versions of {@code results} (by id), per input partition in offset order with
     * repeats collapsed: {@code {0=[1, 2, 1], 1=[1, 2, 1]}} where both partitions went through a
     * swap to version 2 and back. Requests not answered yet, or not acknowledged yet, are left out.
     */
    public Map<Integer, List<Long>> versionRuns(Map<String, InferenceResult> results)
            throws InterruptedException {
        Map<Integer, TreeMap<Long, Long>> byPartition = new TreeMap<>();
        for (Map.Entry<String, Future<RecordMetadata>> request : landed.entrySet()) {
            InferenceResult result = results.get(request.getKey());
            if (result == null || !request.getValue().isDone()) {
                continue;
            }
            RecordMetadata where;
            try {
                where = request.getValue().get();
            } catch (ExecutionException e) {
                continue; // not sent: stopAfter fails on it
            }
            byPartition
                    .computeIfAbsent(where.partition(), p -> new TreeMap<>())
                    .put(where.offset(), result.getModelVersion());
        }
        Map<Integer, List<Long>> runs = new TreeMap<>();
        byPartition.forEach(
                (partition, versions) -> {
                    List<Long> run = new ArrayList<>();
                    for (Long version : versions.values()) {
                        if (run.isEmpty() || !run.get(run.size() - 1).equals(version)) {
                            run.add(version);
                        }
                    }
                    runs.put(partition, run);
                });
        return runs;
    }

    /**
     * Asserts what a stream through versions of model {@code name} of {@code repository} must come
     * to once every request sent was answered: each id exactly once, by a result (no dead letter,
     * no duplicate) of that model; in each of the input topic's {@code partitions}, in offset
     * order, the versions {@code runs}; and each answer what ONNX Runtime, run directly on the file
     * of the version the result is labelled with, answers (within 1e-5).
     */
    public void assertAnsweredOnceInRuns(
            StreamOutcomes outcomes, Path repository, String name, int partitions, List<Long> runs)
            throws Exception {
        assertThat(outcomes.duplicates()).as("ids with more than one outcome").isEmpty();
        assertThat(outcomes.failures()).as("dead letters").isEmpty();
        assertThat(outcomes.results().keySet())
                .as("ids answered")
                .containsExactlyInAnyOrderElementsOf(ids());
        assertThat(outcomes.results().values())
                .allSatisfy(
                        result -> {
                            assertThat(result.getModel()).as(result.getId()).isEqualTo(name);
                            assertThat(result.getModelVersion()).as(result.getId()).isIn(runs);
                        });
        Map<Integer, List<Long>> expected = new TreeMap<>();
        for (int partition = 0; partition < partitions; partition++) {
            expected.put(partition, runs);
        }
        assertThat(versionRuns(outcomes.results()))
                .as("versions per input partition, in offset order")
                .isEqualTo(expected);
        RepositoryVersions.assertAnswers(
                repository, name, outcomes.results().values(), this::request, 1e-5f);
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }
}
