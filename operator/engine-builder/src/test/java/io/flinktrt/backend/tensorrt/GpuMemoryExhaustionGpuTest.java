package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;
import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.flinktrt.backend.tensorrt.GpuTestSupport.MIB;
import static io.flinktrt.backend.tensorrt.GpuTestSupport.freeBytes;
import static io.flinktrt.backend.tensorrt.GpuTestSupport.mib;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A GPU really filled with other allocations: open() of a runner whose contexts do not fit fails
 * with a {@link BackendException} that names the model, the memory needed and free, and what to do;
 * it leaves nothing allocated behind, and once the memory is back the same model opens again.
 *
 * <p>The model is the MLP built for 2M rows per batch (one profile), so that a runner needs about a
 * GiB (2 lanes x (context + 128 MiB of inputs)) while its engine is under 1 MiB: with only {@link
 * #LEAVE} free, the engine still loads and the contexts cannot fit. GPU tag; see docs/gpu.md.
 */
@Tag("gpu")
@Timeout(300)
class GpuMemoryExhaustionGpuTest {

    private static final int DEVICE = 0;
    private static final int LANES = 2;
    private static final long ROWS = 1L << 21;

    /**
     * What the filler leaves free: plenty for a tiny engine, well below 2 lanes' inputs (256 MiB)
     * alone.
     */
    private static final long LEAVE = 128 * MIB;

    private static final Pattern NUMBERS =
            Pattern.compile("need at least (\\d+) MiB.* and (\\d+) MiB are free");

    @TempDir static Path dir;
    static Path plan;

    @BeforeAll
    static void needsGpuAndPlan() throws Exception {
        System.out.println(GpuTestSupport.requireTensorRt());
        Map<String, ShapeRange> wide =
                Map.of(
                        "x",
                        new ShapeRange(
                                new long[] {1, 16}, new long[] {ROWS, 16}, new long[] {ROWS, 16}));
        plan =
                GpuTestSupport.buildPlan(
                        TestModels.path(TestModels.MLP),
                        dir.resolve("mlp_wide.plan"),
                        wide,
                        List.of());
    }

    @Test
    void contextsThatDoNotFitFailOpenClearlyAndLeaveNothingBehind() throws Exception {
        long before = freeBytes(DEVICE);
        long held;
        try (ModelRunner runner = open()) {
            GpuTestSupport.runOnce(runner, 100);
            held = before - freeBytes(DEVICE);
        }
        long afterFirst = freeBytes(DEVICE);
        System.out.printf(
                "out-of-memory: a %d-lane runner of mlp_wide holds %s while open; free before %s,"
                        + " after close %s%n",
                LANES, mib(held), mib(before), mib(afterFirst));
        assertThat(held)
                .as("the runner must need far more than the filler leaves (%s)", mib(LEAVE))
                .isGreaterThan(2 * LEAVE);

        try (GpuTestSupport.GpuFill fill = GpuTestSupport.GpuFill.leaving(DEVICE, LEAVE)) {
            long filled = freeBytes(DEVICE);
            System.out.printf(
                    "out-of-memory: filled %s in %d cudaMalloc blocks; %s free%n",
                    mib(fill.bytes()), fill.blocks(), mib(filled));
            assertThat(filled).as("free memory after filling").isLessThan(LEAVE + 64 * MIB);

            Throwable error = catchThrowable(() -> open().close());
            long afterFailure = freeBytes(DEVICE);
            System.out.printf(
                    "out-of-memory: free after the failed open() %s; it threw (with %s free): %s%n",
                    mib(afterFailure), mib(filled), stackTrace(error));
            assertClearError(error, filled);
            assertThat(Math.abs(afterFailure - filled))
                    .as(
                            "GPU memory left allocated by the failed open: free %s"
                                    + " before it, %s after",
                            mib(filled), mib(afterFailure))
                    .isLessThan(8 * MIB);
        }

        long released = freeBytes(DEVICE);
        long whileOpen;
        try (EngineLoads loads = new EngineLoads();
                ModelRunner runner = open()) {
            assertThat(loads.count())
                    .as("the engine is loaded afresh: the failed open left none loaded")
                    .isEqualTo(1);
            GpuTestSupport.runOnce(runner, 100);
            whileOpen = freeBytes(DEVICE);
        }
        long end = freeBytes(DEVICE);
        System.out.printf(
                "out-of-memory: after releasing the fill %s free; it opens again (%s free while open);"
                        + " free at the end %s, change from the first close %s%n",
                mib(released), mib(whileOpen), mib(end), mib(end - afterFirst));
        assertThat(Math.abs(end - afterFirst))
                .as("GPU memory change over the whole test")
                .isLessThan(16 * MIB);
    }

    /**
     * A second slot on a GPU that the first slot and others filled: it fails; the first keeps
     * running.
     */
    @Test
    void aSlotThatDoesNotFitFailsWhileTheOpenOneKeepsRunning() throws Exception {
        EngineLoads loads = new EngineLoads();
        try (loads;
                ModelRunner first = open()) {
            GpuTestSupport.runOnce(first, 100);
            try (GpuTestSupport.GpuFill fill = GpuTestSupport.GpuFill.leaving(DEVICE, LEAVE)) {
                long filled = freeBytes(DEVICE);
                Throwable error = catchThrowable(() -> open().close());
                long afterFailure = freeBytes(DEVICE);
                System.out.printf(
                        "out-of-memory, second slot: filled %s, %s free; open() threw: %s; free after %s%n",
                        mib(fill.bytes()), mib(filled), error, mib(afterFailure));
                assertClearError(error, filled);
                assertThat(Math.abs(afterFailure - filled))
                        .as(
                                "GPU memory left allocated by the failed open: free"
                                        + " %s before it, %s after",
                                mib(filled), mib(afterFailure))
                        .isLessThan(8 * MIB);
                assertThat(loads.count())
                        .as("the failed open shared the first slot's engine, still loaded")
                        .isEqualTo(1);
                GpuTestSupport.runOnce(first, 100);
            }
        }
        try (EngineLoads reopen = new EngineLoads()) {
            open().close();
            assertThat(reopen.count())
                    .as("closing the first slot released the engine")
                    .isEqualTo(1);
        }
    }

    private static void assertClearError(Throwable error, long freeWhenOpened) {
        assertThat(error).as("open() on a full GPU").isInstanceOf(BackendException.class);
        String message = error.getMessage();
        assertThat(message)
                .contains("mlp_wide")
                .contains("GPU " + DEVICE)
                .contains("MiB are free")
                .contains("need at least")
                .contains("fewer slots")
                .contains("tensorrt.contexts")
                .contains("smaller max batch");
        Matcher numbers = NUMBERS.matcher(message);
        assertThat(numbers.find()).as("needed and free MiB in: %s", message).isTrue();
        long needed = Long.parseLong(numbers.group(1));
        long free = Long.parseLong(numbers.group(2));
        assertThat(needed).as("needed MiB > free MiB in: %s", message).isGreaterThan(free);
        assertThat(needed)
                .as("needed MiB: at least the 2 lanes' input buffers")
                .isGreaterThanOrEqualTo(LANES * ROWS * 16 * 4 / MIB);
        assertThat(free * MIB)
                .as("free MiB reported vs %s measured before open()", mib(freeWhenOpened))
                .isBetween(freeWhenOpened - 64 * MIB, freeWhenOpened + MIB);
    }

    private static ModelRunner open() throws BackendException {
        return new TensorRtBackend().open(new ModelConfig(plan, DEVICE, 0, LANES, Map.of()));
    }

    private static String stackTrace(Throwable error) {
        if (error == null) {
            return "nothing";
        }
        StringWriter text = new StringWriter();
        error.printStackTrace(new PrintWriter(text));
        return text.toString();
    }
}
