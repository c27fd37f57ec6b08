package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.Availability;
import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.build.EngineBuilder;
import io.flinktrt.backend.tensorrt.gpu.Cuda;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Shared by the GPU-tagged tests of the operator and jobs modules: plans built from the repo's ONNX
 * models, GPU memory readings, and a filler that takes (almost) all free GPU memory.
 */
public final class GpuTestSupport {

    public static final long MIB = 1L << 20;

    private GpuTestSupport() {}

    /**
     * Fails the caller with the backend's own reason when TensorRT cannot run here; returns that
     * reason.
     */
    public static String requireTensorRt() {
        Availability availability = new TensorRtBackend().availability();
        if (!availability.available()) {
            throw new AssertionError("TensorRT is not available here: " + availability.reason());
        }
        return availability.reason();
    }

    /**
     * Builds {@code onnx} into {@code plan} (once; an existing plan is reused) with one profile per
     * bucket.
     */
    public static Path buildPlan(Path onnx, Path plan, List<Integer> buckets)
            throws BackendException {
        return buildPlan(onnx, plan, Map.of(), buckets);
    }

    /**
     * Builds with {@code --shapes}-style ranges and/or batch buckets, the project's default tactic
     * sources.
     */
    public static Path buildPlan(
            Path onnx, Path plan, Map<String, ShapeRange> shapes, List<Integer> buckets)
            throws BackendException {
        if (!Files.exists(plan)) {
            EngineBuilder.build(
                    BuildOptions.builder(onnx, plan)
                            .setShapes(shapes)
                            .setBatchBuckets(buckets)
                            .setWorkspaceMiB(1024)
                            .build(),
                    System.out::println);
        }
        return plan;
    }

    /** Free memory of {@code device} in bytes; sets it as the calling thread's device. */
    public static long freeBytes(int device) throws BackendException {
        return GpuProbe.freeMemory(device);
    }

    /** Total memory of {@code device} in bytes; sets it as the calling thread's device. */
    public static long totalBytes(int device) throws BackendException {
        Cuda.setDevice(device);
        try (SizeTPointer free = new SizeTPointer(1);
                SizeTPointer total = new SizeTPointer(1)) {
            Cuda.check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            return total.get();
        }
    }

    public static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (double) MIB);
    }

    /**
     * Acquires a buffer set, fills {@code rows} rows of every input with a small pattern, runs it,
     * releases it.
     */
    public static void runOnce(ModelRunner runner, int rows) throws Exception {
        BatchBuffers buffers = runner.acquire();
        try {
            for (int i = 0; i < runner.signature().inputs().size(); i++) {
                long bytes = runner.signature().inputs().get(i).sampleBytes() * (long) rows;
                for (int b = 0; b < bytes; b++) {
                    buffers.input(i).put(b, (byte) (b % 3));
                }
            }
            buffers.run(rows).get();
        } finally {
            buffers.release();
        }
    }

    /**
     * Takes all but about {@code leaveBytes} of the free memory of {@code device} with plain {@code
     * cudaMalloc}s (chunks of up to 1 GiB, halved when one fails), until {@link #close()}.
     */
    public static final class GpuFill implements AutoCloseable {
        private static final long GRAIN = 2 * MIB;

        private final int device;
        private final List<Pointer> blocks = new ArrayList<>();
        private long bytes;

        private GpuFill(int device) {
            this.device = device;
        }

        public static GpuFill leaving(int device, long leaveBytes) throws BackendException {
            GpuFill fill = new GpuFill(device);
            try {
                long chunk = 1L << 30;
                for (int attempts = 0; attempts < 100_000; attempts++) {
                    long excess = freeBytes(device) - leaveBytes;
                    long size = Math.min(chunk, excess) / GRAIN * GRAIN;
                    if (size < GRAIN) {
                        break;
                    }
                    Pointer block = new Pointer();
                    int status = cudart.cudaMalloc(block, size);
                    if (status != cudart.cudaSuccess) {
                        cudart.cudaGetLastError(); // out of memory is not sticky; clear it for
                        // the code under test
                        if (size == GRAIN) {
                            break;
                        }
                        chunk = Math.max(GRAIN, size / 2);
                        continue;
                    }
                    fill.blocks.add(block);
                    fill.bytes += size;
                }
                return fill;
            } catch (BackendException | RuntimeException e) {
                fill.close();
                throw e;
            }
        }

        /** Bytes taken. */
        public long bytes() {
            return bytes;
        }

        public int blocks() {
            return blocks.size();
        }

        @Override
        public void close() {
            Cuda.checkQuietly(cudart.cudaSetDevice(device), "cudaSetDevice");
            for (Pointer block : blocks) {
                Cuda.checkQuietly(cudart.cudaFree(block), "cudaFree");
            }
            blocks.clear();
            bytes = 0;
        }
    }
}
