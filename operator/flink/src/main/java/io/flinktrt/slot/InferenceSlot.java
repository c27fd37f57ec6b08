package io.flinktrt.slot;

import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.repository.ModelRepository;
import io.flinktrt.repository.ModelVersion;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.repository.ServingTarget;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.metrics.MetricGroup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;

/**
 * One task slot's model, as both front doors (the DataStream {@code InferenceFunction} and
 * ML_PREDICT's predict function) open, meter and close it: the versions serving now ({@link
 * ServedVersion}: backend, GPU claim, scheduler), the {@code inference} metrics, and, for a model
 * from a {@link ModelRepository} with a poll interval, the watcher that prepares the versions the
 * repository asks for next.
 *
 * <p>A new version is opened beside the running one in the background (the plan loaded, or built
 * from ONNX through the plan cache, and every batch bucket warmed up) and takes over at the next
 * {@link #checkpointBoundary}: records that reach the operator after that checkpoint's barrier go
 * to it, records before finish on the version that took them, which then retires and frees its GPU
 * memory. A version that cannot open (files broken, inputs unlike the stream's, no GPU memory left
 * beside the running one) is logged and not served; the running one goes on.
 *
 * @param <P> a record as the codec prepared it
 * @param <OUT> a record's output
 */
@Internal
public final class InferenceSlot<P, OUT> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceSlot.class);

    /** The metric group of the slot's metrics (named after Triton's: docs/operations.md). */
    public static final String METRIC_GROUP = InferenceMetrics.GROUP;

    /** Binds the front door's codec to a model version the slot opened, or refuses it. */
    @FunctionalInterface
    public interface CodecBinding<P, OUT> {
        RowCodec<P, OUT> bind(ModelSignature signature, String backendName, ServedModel model)
                throws Exception;
    }

    /** The versions serving together, and which one a record goes to. */
    private record Serving<P, OUT>(
            ServingTarget target, ServedVersion<P, OUT> primary, ServedVersion<P, OUT> canary) {

        ServedVersion<P, OUT> route(String id) {
            return canary != null && target.routesToCanary(id) ? canary : primary;
        }

        boolean serves(ServingTarget wanted) {
            return target != null
                    && target.primary().version() == wanted.primary().version()
                    && version(target.canary()) == version(wanted.canary())
                    && target.canaryFraction() == wanted.canaryFraction();
        }

        List<ServedVersion<P, OUT>> versions() {
            return canary == null ? List.of(primary) : List.of(primary, canary);
        }

        /** This one's version of {@code wanted}, if it has it open. */
        ServedVersion<P, OUT> find(ModelVersion wanted) {
            for (ServedVersion<P, OUT> version : versions()) {
                if (version.served().version() == wanted.version()) {
                    return version;
                }
            }
            return null;
        }

        private static long version(ModelVersion version) {
            return version == null ? ServedModel.NO_VERSION : version.version();
        }
    }

    private final SlotSettings settings;
    private final String label;
    private final int subtask;
    private final Collection<ExternalResourceInfo> gpus;
    private final MetricGroup metricGroup;
    private final InferenceMetrics metrics;
    private final CodecBinding<P, OUT> binding;
    private final ModelRepository repository;

    /** Per version, kept after it retires: a rollback counts on in the same metrics. */
    private final Map<Long, VersionMetrics> versionMetrics = new ConcurrentHashMap<>();

    /** The serving versions: swapped on the task thread, read by the watcher. */
    private volatile Serving<P, OUT> serving;

    /** Versions the watcher opened, waiting for the next checkpoint. */
    private final AtomicReference<Serving<P, OUT>> prepared = new AtomicReference<>();

    /**
     * Versions that would not open, by their files, so that they are tried again only when those
     * change.
     */
    private final Map<String, String> refused = new ConcurrentHashMap<>();

    private ScheduledExecutorService watcher;
    private final ExecutorService retirer;
    private String lastRepositoryProblem;

    private InferenceSlot(
            SlotSettings settings,
            String label,
            int subtask,
            Collection<ExternalResourceInfo> gpus,
            MetricGroup metricGroup,
            InferenceMetrics metrics,
            CodecBinding<P, OUT> binding) {
        this.settings = settings;
        this.label = label;
        this.subtask = subtask;
        this.gpus = gpus;
        this.metricGroup = metricGroup;
        this.metrics = metrics;
        this.binding = binding;
        this.repository =
                settings.modelRepository() == null
                        ? null
                        : new ModelRepository(Path.of(settings.modelRepository()));
        this.retirer = Executors.newSingleThreadExecutor(daemon("inference-retire-"));
    }

    /**
     * Opens the model for subtask {@code subtask}: the file, or the repository versions its policy
     * picks, and with a poll interval the watcher.
     *
     * @param name the model's name in logs and thread names; null for the model's own
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
        String label =
                name != null
                        ? name
                        : settings.modelRepository() != null
                                ? settings.model()
                                : Path.of(settings.model()).getFileName().toString();
        InferenceSlot<P, OUT> slot =
                new InferenceSlot<>(
                        settings,
                        label,
                        subtask,
                        gpus,
                        metricGroup,
                        new InferenceMetrics(metricGroup, pendingRecords),
                        binding);
        try {
            slot.serving = slot.openFirst(name);
        } catch (Exception | Error e) {
            slot.retirer.shutdown();
            throw e;
        }
        slot.startWatching();
        return slot;
    }

    private Serving<P, OUT> openFirst(String name) throws Exception {
        if (repository == null) {
            return new Serving<>(
                    null,
                    openVersion(
                            List.of(Path.of(settings.model())), name, ServedModel.NO_VERSION, null),
                    null);
        }
        ServingTarget target;
        try {
            target = repository.resolve(settings.model(), settings.servingPolicy());
        } catch (IOException e) {
            throw new IOException("Model " + settings.model() + ": " + e.getMessage(), e);
        }
        return open(target, null);
    }

    /** Opens what {@code target} needs, taking versions {@code current} has open as they are. */
    private Serving<P, OUT> open(ServingTarget target, Serving<P, OUT> current) throws Exception {
        List<ServedVersion<P, OUT>> opened = new ArrayList<>(2);
        try {
            ModelSignature inputs = current == null ? null : current.primary().signature();
            ServedVersion<P, OUT> primary = current == null ? null : current.find(target.primary());
            if (primary == null) {
                primary = openVersion(target.primary(), inputs);
                opened.add(primary);
            }
            ServedVersion<P, OUT> canary = null;
            if (target.canary() != null) {
                canary = current == null ? null : current.find(target.canary());
                if (canary == null) {
                    canary = openVersion(target.canary(), primary.signature());
                    opened.add(canary);
                }
            }
            return new Serving<>(target, primary, canary);
        } catch (Exception | Error e) {
            opened.forEach(ServedVersion::close);
            throw e;
        }
    }

    private ServedVersion<P, OUT> openVersion(ModelVersion version, ModelSignature inputs)
            throws Exception {
        List<Path> files = version.files(settings.backend());
        return openVersion(files, version.name(), version.version(), inputs);
    }

    /**
     * Opens one version, bound to the codec and with its own scheduler.
     *
     * @param inputs a version the stream is served by already: the new one must take the same
     *     inputs
     */
    private ServedVersion<P, OUT> openVersion(
            List<Path> files, String name, long version, ModelSignature inputs) throws Exception {
        SlotModel model =
                SlotModel.open(
                        settings.backend(), files, gpus, settings.device(), settings::modelConfig);
        try {
            ModelRunner runner = model.runner();
            ModelSignature signature = runner.signature();
            if (inputs != null && !inputs.inputs().equals(signature.inputs())) {
                throw new IllegalArgumentException(
                        model.file()
                                + " takes inputs "
                                + signature.inputs()
                                + ", unlike the version serving the stream now ("
                                + inputs.inputs()
                                + "); a new version must take the same requests");
            }
            ServedModel served =
                    new ServedModel(name != null ? name : signature.modelName(), version);
            RowCodec<P, OUT> codec = binding.bind(signature, runner.backendName(), served);
            VersionMetrics listener =
                    served.versioned()
                            ? versionMetrics.computeIfAbsent(
                                    version, v -> new VersionMetrics(metricGroup, v, metrics))
                            : new VersionMetrics(null, version, metrics);
            String threadName = label + "-" + subtask + (served.versioned() ? "-v" + version : "");
            BatchScheduler<P, OUT> scheduler =
                    new BatchScheduler<>(
                            runner,
                            codec,
                            new BatchingConfig(
                                    threadName, signature.maxBatchSize(), settings.maxDelay()),
                            listener);
            LOG.info(
                    "Subtask {} opened {} ({}) on {} (device {} from {}); {}; max batch {}, max delay {}",
                    subtask,
                    served,
                    model.file(),
                    runner.backendName(),
                    model.deviceIndex(),
                    model.deviceSource(),
                    model.backendChoice(),
                    signature.maxBatchSize(),
                    settings.maxDelay());
            return new ServedVersion<>(served, model, codec, scheduler, listener);
        } catch (Exception | Error e) {
            model.close();
            throw e;
        }
    }

    private void startWatching() {
        if (repository == null || settings.repositoryPollInterval().isZero()) {
            return;
        }
        watcher = Executors.newSingleThreadScheduledExecutor(daemon("inference-watch-"));
        long millis = settings.repositoryPollInterval().toMillis();
        watcher.scheduleWithFixedDelay(this::prepareWanted, millis, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * On the watcher: reads what the repository asks for and, if the slot does not serve it and
     * nothing waits for a checkpoint yet, opens it for the next one.
     */
    private void prepareWanted() {
        if (prepared.get() != null) {
            return;
        }
        ServingTarget target;
        try {
            target = repository.resolve(settings.model(), settings.servingPolicy());
            lastRepositoryProblem = null;
        } catch (IOException | RuntimeException e) {
            String problem = String.valueOf(e.getMessage());
            if (!problem.equals(lastRepositoryProblem)) {
                LOG.warn(
                        "Subtask {}: model {}: {}; still serving {}",
                        subtask,
                        label,
                        problem,
                        serving.target());
                lastRepositoryProblem = problem;
            }
            return;
        }
        Serving<P, OUT> current = serving;
        if (current.serves(target)) {
            return;
        }
        String key = fingerprint(target);
        if (refused.containsKey(key)) {
            return;
        }
        long start = System.nanoTime();
        LOG.info("Subtask {}: preparing {} beside {}", subtask, target, current.target());
        try {
            prepared.set(open(target, current));
            LOG.info(
                    "Subtask {}: {} ready after {} ms; it serves from the next checkpoint on",
                    subtask,
                    target,
                    (System.nanoTime() - start) / 1_000_000);
        } catch (Exception | Error e) {
            refused.put(key, String.valueOf(e.getMessage()));
            LOG.warn(
                    "Subtask {}: {} is not served: {}; still serving {}; tried again when its files change",
                    subtask,
                    target,
                    e.getMessage(),
                    current.target());
            LOG.debug("Why {} is not served", target, e);
        }
    }

    /**
     * The target's versions with their files' sizes and times: a version fixed in place counts as
     * new.
     */
    private String fingerprint(ServingTarget target) {
        StringBuilder key = new StringBuilder(target.toString());
        for (ModelVersion version :
                target.canary() == null
                        ? List.of(target.primary())
                        : List.of(target.primary(), target.canary())) {
            for (Path file : version.files(settings.backend())) {
                File f = file.toFile();
                key.append('|')
                        .append(file)
                        .append(':')
                        .append(f.length())
                        .append(':')
                        .append(f.lastModified());
            }
        }
        return key.toString();
    }

    /**
     * Called on the task thread as a checkpoint is taken, before any record after its barrier: a
     * prepared version takes over here, and the versions it replaces retire in the background.
     */
    public void checkpointBoundary(long checkpointId) {
        takeOver("checkpoint " + checkpointId);
    }

    /**
     * Called on the task thread before each record where the job takes no checkpoints (so no output
     * is replayed and there is no boundary to keep): a prepared version takes over at once.
     */
    public void takeOverNow() {
        if (prepared.get() != null) {
            takeOver("now (the job takes no checkpoints)");
        }
    }

    private void takeOver(String when) {
        Serving<P, OUT> next = prepared.getAndSet(null);
        if (next == null) {
            return;
        }
        Serving<P, OUT> previous = serving;
        serving = next;
        LOG.info(
                "Subtask {} serves {} from {} on (was {})",
                subtask,
                next.target(),
                when,
                previous.target());
        for (ServedVersion<P, OUT> version : previous.versions()) {
            if (!next.versions().contains(version)) {
                retirer.execute(version::retire);
            }
        }
    }

    public ModelSignature signature() {
        return serving.primary().signature();
    }

    /** The version that prepares records and answers the ones that reach no version. */
    public ServedVersion<P, OUT> primary() {
        return serving.primary();
    }

    /** The version a record with this id goes to (the canary's share by a hash of the id). */
    public ServedVersion<P, OUT> route(String id) {
        return serving.route(id);
    }

    /**
     * Queues a record on the primary version; its future completes with its output or fails with
     * why.
     */
    public CompletableFuture<OUT> submit(P record) {
        return serving.primary().submit(record);
    }

    /** Counts a record that ended without an output, by why, before any version took it. */
    public void failed(ErrorCode code) {
        metrics.failed(code);
    }

    @Override
    public void close() {
        try {
            if (watcher != null) {
                watcher.shutdownNow();
                awaitQuietly(watcher);
            }
            Serving<P, OUT> current = serving;
            Serving<P, OUT> waiting = prepared.getAndSet(null);
            if (waiting != null) {
                for (ServedVersion<P, OUT> version : waiting.versions()) {
                    if (!current.versions().contains(version)) {
                        version.close();
                    }
                }
            }
            retirer.shutdown();
            awaitQuietly(retirer);
            for (ServedVersion<P, OUT> version : current.versions()) {
                try {
                    version.close();
                } catch (RuntimeException e) {
                    LOG.warn("Closing {} failed", version.served(), e);
                }
            }
        } finally {
            LOG.info("Closing {} on subtask {}: {}", label, subtask, metrics.summary());
        }
    }

    private ThreadFactory daemon(String prefix) {
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + label + "-" + subtask);
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Waits (at most 60 s) for the pool's work, also when interrupted (a cancelled task). */
    private static void awaitQuietly(ExecutorService pool) {
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try {
            while (!pool.isTerminated() && System.nanoTime() < deadline) {
                try {
                    pool.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
