package io.flinktrt.tools.cli;

import io.flinktrt.backend.Availability;
import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.Backends;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.TensorRtBackend;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.gpu.GpuProbe;
import io.flinktrt.backend.tensorrt.gpu.TensorRtLines;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code doctor}: what this machine can run, and whether a given plan runs here. */
@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        description = {
            "Reports the GPU, driver, CUDA runtime and TensorRT versions and which backends can run here.",
            "With --engine, checks a plan against its metadata and opens it (deserialize, contexts, warm-up)."
        })
public final class DoctorCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Option(
            names = "--engine",
            paramLabel = "PLAN",
            description = "A plan built by build-engine to try here.")
    private Path engine;

    @Option(
            names = "--device",
            defaultValue = "0",
            paramLabel = "N",
            description = "GPU to probe (default 0).")
    private int device;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
                "Java %s (%s), %s %s%n",
                System.getProperty("java.version"),
                System.getProperty("java.vendor"),
                System.getProperty("os.name"),
                System.getProperty("os.arch"));
        boolean gpuOk = probeGpu(out);
        out.println("Backends, most preferred first:");
        for (InferenceBackend backend : Backends.all()) {
            Availability a = backend.availability();
            out.printf(
                    "  %-12s priority %3d  %s: %s%n",
                    backend.name(),
                    backend.priority(),
                    a.available() ? "available" : "UNAVAILABLE",
                    a.reason());
        }
        boolean engineOk = engine == null || tryEngine(out);
        out.flush();
        return gpuOk && engineOk ? 0 : 1;
    }

    private boolean probeGpu(PrintWriter out) {
        try {
            GpuInfo gpu = GpuProbe.probe(device, true);
            out.printf(
                    "GPU %d of %d: %s (PCI %s), compute capability %s, %d SMs, %d copy engines%n",
                    gpu.device(),
                    gpu.deviceCount(),
                    gpu.name(),
                    gpu.pciBusId(),
                    gpu.computeCapability(),
                    gpu.multiProcessors(),
                    gpu.copyEngines());
            out.printf(
                    "Memory: %d MiB total, %d MiB free%n",
                    gpu.totalMemoryBytes() >> 20, gpu.freeMemoryBytes() >> 20);
            out.printf(
                    "Driver supports CUDA %s; CUDA runtime %s; TensorRT %s%n",
                    gpu.driverCudaVersion(), gpu.cudaRuntimeVersion(), gpu.tensorRtVersion());
            out.printf(
                    "Fast FP16: %s; fast INT8: %s%n",
                    gpu.fastFp16() ? "yes" : "no", gpu.fastInt8() ? "yes" : "no");
            out.println(
                    TensorRtLines.advice(
                            gpu.computeCapability(),
                            gpu.driverCudaVersion(),
                            gpu.tensorRtVersion()));
            return true;
        } catch (BackendException e) {
            out.println("GPU: not usable: " + e.getMessage());
            return false;
        }
    }

    private boolean tryEngine(PrintWriter out) {
        try {
            PlanMetadata m = PlanMetadata.read(PlanMetadata.sidecarOf(engine));
            out.printf(
                    "Plan %s: built with TensorRT %s on %s (compute %s), %s%n",
                    engine, m.tensorRtVersion(), m.gpuName(), m.computeCapability(), m.builtAt());
        } catch (Exception e) {
            out.println("Plan " + engine + ": metadata unreadable: " + e.getMessage());
        }
        long start = System.nanoTime();
        try (ModelRunner runner =
                Backends.select(TensorRtBackend.NAME, engine)
                        .backend()
                        .open(new ModelConfig(engine, device, 0, 2, Map.of()))) {
            out.printf(
                    "Plan %s runs here: opened and warmed up in %d ms, max batch %d%n",
                    engine,
                    (System.nanoTime() - start) / 1_000_000,
                    runner.signature().maxBatchSize());
            for (TensorSpec t : runner.signature().inputs()) {
                out.println("  input  " + t);
            }
            for (TensorSpec t : runner.signature().outputs()) {
                out.println("  output " + t);
            }
            return true;
        } catch (BackendException e) {
            out.println("Plan " + engine + " cannot run here: " + e.getMessage());
            return false;
        }
    }
}
