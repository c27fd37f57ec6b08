package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;
import io.flinktrt.backend.tensorrt.runtime.TensorRtRunner;
import io.flinktrt.testing.TestModels;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Builds and runs the repo's test models on a real GPU (their agreement with ONNX Runtime is in
 * jobs' EngineCheckGpuTest); proves that repeated open/close keeps GPU memory flat and that bad
 * plans fail before TensorRT loads them. Run on a GPU host only (tag {@code gpu}; see docs/gpu.md).
 * {@code -Dflinktrt.cycle.plan=PLAN} runs the open/close cycles on a bigger plan (e.g. ResNet-50)
 * than the test models.
 */
@Tag("gpu")
class TensorRtGpuTest {

    private static final List<Integer> BUCKETS = List.of(1, 8, 32);

    @TempDir static Path dir;

    /** Fails the whole class with the backend's own reason when TensorRT cannot run here. */
    @BeforeAll
    static void needsGpu() {
        System.out.println(GpuTestSupport.requireTensorRt());
    }

    @Test
    void lanesRunConcurrentlyAndPadToTheirBucket() throws Exception {
        Path plan = build(TestModels.MLP);
        try (EngineLoads loads = new EngineLoads()) {
            try (ModelRunner runner =
                    new TensorRtBackend().open(new ModelConfig(plan, 0, 0, 2, Map.of()))) {
                assertThat(runner.signature().maxBatchSize()).isEqualTo(32);
                assertThat(runner.signature().inputs().get(0).sampleShape()).containsExactly(16);
                assertThat(runner.signature().outputs().get(0).sampleShape()).containsExactly(10);
                BatchBuffers a = runner.acquire();
                BatchBuffers b = runner.acquire();
                fill(a, 3, 1);
                fill(b, 20, 2);
                var runA = a.run(3);
                var runB = b.run(20);
                BatchRun doneA = runA.get();
                BatchRun doneB = runB.get();
                // padded to a bucket, or split into cheaper ones (the plan follows the buckets'
                // measured times)
                assertThat(doneA.executedRows()).isBetween(3, 8);
                assertThat(doneB.executedRows()).isBetween(20, 32);
                for (int r = 0; r < 3; r++) { // softmax rows sum to 1
                    float sum = 0;
                    for (int e = 0; e < 10; e++) {
                        sum += a.output(0).getFloat((r * 10 + e) * 4);
                    }
                    assertThat(sum).isCloseTo(1f, Offset.offset(1e-3f));
                }
                a.release();
                b.release();
            }
            open(plan);
            assertThat(loads.count())
                    .as("a reopen deserializes again: the closed runner released its engine")
                    .isEqualTo(2);
        }
    }

    /**
     * Batches of mixed sizes, through a runner that replays CUDA graphs and one that enqueues
     * plainly: graphs are captured for every bucket and change no output.
     */
    @Test
    void cudaGraphsMatchPlainEnqueue() throws Exception {
        Path plan = build(TestModels.MLP);
        int[] sizes = {1, 20, 3, 32, 8, 1, 17, 32};
        try (ModelRunner graphs =
                        new TensorRtBackend().open(new ModelConfig(plan, 0, 0, 3, Map.of()));
                ModelRunner plain =
                        new TensorRtBackend()
                                .open(
                                        new ModelConfig(
                                                plan,
                                                0,
                                                0,
                                                3,
                                                Map.of(
                                                        TensorRtOptions.CUDA_GRAPHS.key(),
                                                        "false")))) {
            assertThat(((TensorRtRunner) graphs).graphBatches()).containsExactly("1", "8", "32");
            assertThat(((TensorRtRunner) plain).graphBatches()).isEmpty();
            for (int i = 0; i < sizes.length; i++) {
                float[] withGraph = run(graphs, sizes[i], i);
                float[] withoutGraph = run(plain, sizes[i], i);
                for (int e = 0; e < withGraph.length; e++) {
                    assertThat(withGraph[e])
                            .as("batch %d (%d rows), element %d", i, sizes[i], e)
                            .isCloseTo(withoutGraph[e], Offset.offset(1e-6f));
                }
            }
        }
    }

    private static float[] run(ModelRunner runner, int rows, long seed) throws Exception {
        BatchBuffers buffers = runner.acquire();
        try {
            fill(buffers, rows, seed);
            buffers.run(rows).get();
            float[] out = new float[rows * 10];
            for (int e = 0; e < out.length; e++) {
                out[e] = buffers.output(0).getFloat(e * 4);
            }
            return out;
        } finally {
            buffers.release();
        }
    }

    @Test
    void openCloseCyclesKeepGpuMemoryFlat() throws Exception {
        String given = System.getProperty("flinktrt.cycle.plan");
        Path plan = given != null ? Path.of(given) : build(TestModels.MLP);
        int cycles = 50;
        long[] free = new long[cycles + 1];
        long freeWhileOpen = Long.MAX_VALUE; // shows the measurement sees what a runner holds
        free[0] = GpuProbe.freeMemory(0);
        long start = System.nanoTime();
        for (int i = 1; i <= cycles; i++) {
            try (ModelRunner runner =
                    new TensorRtBackend().open(new ModelConfig(plan, 0, 0, 2, Map.of()))) {
                BatchBuffers buffers = runner.acquire();
                buffers.run(1).get();
                buffers.release();
                freeWhileOpen = Math.min(freeWhileOpen, GpuProbe.freeMemory(0));
            }
            free[i] = GpuProbe.freeMemory(0);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double mib = 1 << 20;
        System.out.printf(
                "open/close cycles of %s: %d in %.1f s; free GPU memory before %.1f MiB, while open"
                        + " %.1f MiB, after cycle 1 %.1f MiB, after cycle %d %.1f MiB; change from cycle 1 to %d: %.1f MiB%n",
                plan.getFileName(),
                cycles,
                seconds,
                free[0] / mib,
                freeWhileOpen / mib,
                free[1] / mib,
                cycles,
                free[cycles] / mib,
                cycles,
                (free[cycles] - free[1]) / mib);
        assertThat(Math.abs(free[cycles] - free[1]))
                .as("GPU memory change over %d cycles", cycles)
                .isLessThan(32L << 20);
    }

    /** A figure for docs/benchmarks.md; asserts only that the loop ran. */
    @Test
    void reportsThroughput() throws Exception {
        String given = System.getProperty("flinktrt.cycle.plan");
        Path plan = given != null ? Path.of(given) : build(TestModels.MLP);
        try (ModelRunner runner =
                new TensorRtBackend().open(new ModelConfig(plan, 0, 0, 2, Map.of()))) {
            int rows = runner.signature().maxBatchSize();
            Duration duration = Duration.ofSeconds(3);
            long records = withCopies(runner, rows, duration);
            double withCopies = records / (double) duration.toSeconds();
            System.out.printf(
                    "throughput of %s at batch %d, 2 lanes: with pinned H2D/D2H copies, 2 batches in"
                            + " flight %.0f records/s (compute alone: the runner's warm-up line, ms per"
                            + " bucket)%n",
                    plan.getFileName(), rows, withCopies);
            assertThat(withCopies).isPositive();
        }
    }

    /** Two caller threads, each acquiring, running and releasing buffer sets back to back. */
    private static long withCopies(ModelRunner runner, int rows, Duration duration)
            throws Exception {
        long deadline = System.nanoTime() + duration.toNanos();
        AtomicLong records = new AtomicLong();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread caller =
                    new Thread(
                            () -> {
                                try {
                                    while (System.nanoTime() < deadline) {
                                        BatchBuffers buffers = runner.acquire();
                                        records.addAndGet(buffers.run(rows).get().rows());
                                        buffers.release();
                                    }
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            });
            caller.start();
            callers.add(caller);
        }
        for (Thread caller : callers) {
            caller.join();
        }
        return records.get();
    }

    @Test
    void badPlansFailBeforeTensorRtLoadsThem() throws Exception {
        Path good = build(TestModels.MLP);
        byte[] bytes = Files.readAllBytes(good);
        String json = Files.readString(PlanMetadata.sidecarOf(good));

        Path truncated = copy(good, "truncated.plan", Arrays.copyOf(bytes, bytes.length / 2), json);
        assertThatThrownBy(() -> open(truncated))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("(truncated)")
                .hasMessageContaining("Rebuild with build-engine");

        byte[] flipped = bytes.clone();
        flipped[flipped.length / 2] ^= 0x5a;
        Path corrupt = copy(good, "corrupt.plan", flipped, json);
        assertThatThrownBy(() -> open(corrupt))
                .hasMessageContaining("corrupt")
                .hasMessageContaining("Rebuild");

        PlanMetadata m = PlanMetadata.read(PlanMetadata.sidecarOf(good));
        Path otherTrt =
                copy(good, "other-trt.plan", bytes, json.replace(m.tensorRtVersion(), "10.5.0.18"));
        assertThatThrownBy(() -> open(otherTrt))
                .hasMessageContaining(
                        "built with TensorRT 10.5.0.18, this JVM loads TensorRT "
                                + m.tensorRtVersion())
                .hasMessageContaining("Rebuild with build-engine");

        Path otherGpu =
                copy(
                        good,
                        "other-gpu.plan",
                        bytes,
                        json.replace("\"" + m.computeCapability() + "\"", "\"8.0\"")
                                .replace(m.gpuName(), "NVIDIA A100-SXM4-80GB"));
        assertThatThrownBy(() -> open(otherGpu))
                .hasMessageContaining("compute capability 8.0 (NVIDIA A100-SXM4-80GB)")
                .hasMessageContaining(m.gpuName());

        Path hostCode =
                copy(
                        good,
                        "host-code.plan",
                        bytes,
                        json.replace(
                                "\"versionCompatible\" : false", "\"versionCompatible\" : true"));
        assertThatThrownBy(() -> open(hostCode))
                .hasMessageContaining("tensorrt.allow-host-code=true");

        // metadata rewritten to match garbage: the checks pass, TensorRT itself must refuse it
        // cleanly
        byte[] garbage = new byte[bytes.length];
        new Random(1).nextBytes(garbage);
        Path garbagePlan =
                copy(
                        good,
                        "garbage.plan",
                        garbage,
                        json.replace(m.planSha256(), ModelFiles.sha256(garbage)));
        try (EngineLoads loads = new EngineLoads()) {
            for (int attempt = 0;
                    attempt < 2;
                    attempt++) { // the second finds no half-loaded engine kept
                assertThatThrownBy(() -> open(garbagePlan))
                        .hasMessageContaining("could not deserialize")
                        .hasMessageContaining("Rebuild with build-engine");
            }
            open(good);
            assertThat(loads.count())
                    .as("no bad plan left an engine loaded; the good one loads")
                    .isEqualTo(1);
        }
    }

    @Test
    void onnxModelsAreBuiltOnceAndCached() throws Exception {
        Path cache = dir.resolve("plan-cache");
        Map<String, String> options =
                Map.of(TensorRtOptions.PLAN_CACHE_DIR.key(), cache.toString());
        ModelConfig config =
                new ModelConfig(TestModels.path(TestModels.TWO_IN_TWO_OUT), 0, 16, 2, options);
        try (ModelRunner runner = new TensorRtBackend().open(config)) {
            assertThat(runner.backendName()).isEqualTo("tensorrt");
            assertThat(runner.signature().maxBatchSize()).isEqualTo(16);
        }
        try (var plans = Files.list(cache)) {
            assertThat(plans.filter(p -> p.toString().endsWith(".plan")).count()).isEqualTo(1);
        }
        long modified = Files.getLastModifiedTime(cachedPlan(cache)).toMillis();
        try (ModelRunner again = new TensorRtBackend().open(config)) {
            assertThat(again.signature().outputs()).hasSize(2);
        }
        assertThat(Files.getLastModifiedTime(cachedPlan(cache)).toMillis())
                .as("not rebuilt")
                .isEqualTo(modified);
    }

    private static Path cachedPlan(Path cache) throws IOException {
        try (var files = Files.list(cache)) {
            return files.filter(p -> p.toString().endsWith(".plan")).findFirst().orElseThrow();
        }
    }

    private static Path build(String model) throws BackendException {
        return GpuTestSupport.buildPlan(
                TestModels.path(model), dir.resolve(model + ".plan"), BUCKETS);
    }

    private static Path copy(Path good, String name, byte[] bytes, String json) throws Exception {
        Path plan = good.resolveSibling(name);
        Files.write(plan, bytes);
        Files.writeString(PlanMetadata.sidecarOf(plan), json);
        return plan;
    }

    private static void open(Path plan) throws BackendException {
        new TensorRtBackend().open(new ModelConfig(plan, 0, 0, 1, Map.of())).close();
    }

    private static void fill(BatchBuffers buffers, int rows, long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < rows * 16; i++) {
            buffers.input(0).putFloat(i * 4, random.nextFloat());
        }
    }
}
