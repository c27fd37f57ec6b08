package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static io.flinktrt.backend.tensorrt.GpuTestSupport.MIB;
import static io.flinktrt.backend.tensorrt.GpuTestSupport.mib;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Open/run/close cycles of a TensorRT runner the way Flink drives them across job restarts: each
 * attempt opens on a new task thread, and a cancelled task closes from an interrupted thread while
 * batches may still run. Each way must keep GPU memory flat; the readings name the way that does
 * not (JobRestartGpuTest saw growth through the whole operator). GPU tag; see docs/gpu.md.
 */
@Tag("gpu")
class RunnerThreadCyclesGpuTest {

    private static final int DEVICE = 0;
    private static final int CYCLES = 20;

    /** As in JobRestartGpuTest: a bucket this large makes one open runner hold hundreds of MiB. */
    private static final int MAX_BATCH = 1 << 18;

    private static final long BOUND = 64 * MIB;

    @TempDir static Path dir;

    private static Path plan;

    @BeforeAll
    static void buildPlan() throws Exception {
        System.out.println(GpuTestSupport.requireTensorRt());
        plan =
                GpuTestSupport.buildPlan(
                        TestModels.path(TestModels.MLP),
                        dir.resolve("mlp_classifier.plan"),
                        List.of(1, 32, MAX_BATCH));
        // one-time costs (CUDA context, TensorRT's kernels) before any baseline
        cycle(false);
    }

    @Test
    void cyclesOnOneThreadKeepMemoryFlat() throws Exception {
        assertFlat("one thread", () -> cycle(false));
    }

    @Test
    void cyclesOnANewThreadEachKeepMemoryFlat() throws Exception {
        assertFlat("a new thread each", () -> onNewThread(() -> cycle(false)));
    }

    @Test
    void closingFromAnInterruptedThreadWithBatchesInFlightKeepsMemoryFlat() throws Exception {
        assertFlat("closed interrupted, batches in flight", () -> onNewThread(() -> cycle(true)));
    }

    /**
     * Opens a runner, runs batches, closes it; with {@code cancelled}, closes while two big batches
     * run, interrupted.
     */
    private static void cycle(boolean cancelled) throws Exception {
        ModelRunner runner =
                new TensorRtBackend().open(new ModelConfig(plan, DEVICE, MAX_BATCH, 2, Map.of()));
        try {
            GpuTestSupport.runOnce(runner, 32);
            if (cancelled) {
                BatchBuffers a = runner.acquire();
                BatchBuffers b = runner.acquire();
                a.run(MAX_BATCH);
                b.run(MAX_BATCH);
                Thread.currentThread().interrupt(); // as Flink interrupts a cancelled task's thread
            }
        } finally {
            runner.close();
            Thread.interrupted();
        }
    }

    private interface Work {
        void run() throws Exception;
    }

    private static void onNewThread(Work work) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread =
                new Thread(
                        () -> {
                            try {
                                work.run();
                            } catch (Throwable e) {
                                failure.set(e);
                            }
                        },
                        "restart-like");
        thread.start();
        thread.join();
        if (failure.get() != null) {
            throw new AssertionError("cycle failed: " + failure.get(), failure.get());
        }
    }

    private static void assertFlat(String way, Work cycle) throws Exception {
        List<Long> used = new ArrayList<>();
        used.add(used());
        for (int i = 0; i < CYCLES; i++) {
            cycle.run();
            used.add(used());
        }
        System.gc();
        Thread.sleep(500); // lets JavaCPP's deallocator thread run what the collection found
        long afterGc = used();
        long growth = used.get(CYCLES) - used.get(1);
        System.out.printf(
                "runner cycles (%s): %d cycles; GPU memory used before %s, after cycle 1 %s, after cycle %d %s;"
                        + " growth from cycle 1 %s (%.2f MiB per cycle); after a GC %s; by cycle (MiB): %s%n",
                way,
                CYCLES,
                mib(used.get(0)),
                mib(used.get(1)),
                CYCLES,
                mib(used.get(CYCLES)),
                mib(growth),
                growth / (double) MIB / (CYCLES - 1),
                mib(afterGc),
                used.stream().map(u -> String.format("%.0f", u / (double) MIB)).toList());
        assertThat(growth)
                .as("GPU memory growth over %d cycles (%s)", CYCLES, way)
                .isLessThan(BOUND);
    }

    private static long used() throws Exception {
        return GpuTestSupport.totalBytes(DEVICE) - GpuTestSupport.freeBytes(DEVICE);
    }
}
