package io.flinktrt.slot;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.function.BiFunction;

/**
 * What one task slot holds to run a model: the GPU it claimed and the backend's runner on it. The
 * DataStream function and ML_PREDICT's open and close it the same way; closed after the slot's
 * scheduler, it frees the runner even when that throws, then gives the GPU claim back.
 */
@Internal
public final class SlotModel implements AutoCloseable {

    private final GpuAssignment.Claim device;
    private final ModelRunner runner;
    private final Path file;
    private final String backendChoice;

    private SlotModel(
            GpuAssignment.Claim device, ModelRunner runner, Path file, String backendChoice) {
        this.device = device;
        this.runner = runner;
        this.file = file;
        this.backendChoice = backendChoice;
    }

    /**
     * Picks the backend for the first of {@code files} one can open (a repository version may hold
     * a plan and its ONNX file), claims a GPU (Flink's {@code gpus} of the slot, else {@code
     * configuredDevice}) and opens the runner with the config for that file and device.
     */
    public static SlotModel open(
            String backend,
            List<Path> files,
            Collection<ExternalResourceInfo> gpus,
            int configuredDevice,
            BiFunction<Path, Integer, ModelConfig> config)
            throws Exception {
        Backends.FileSelection chosen = Backends.selectFirst(backend, files);
        GpuAssignment.Claim device = GpuAssignment.claim(gpus, configuredDevice);
        try {
            return new SlotModel(
                    device,
                    chosen.selection()
                            .backend()
                            .open(config.apply(chosen.file(), device.deviceIndex())),
                    chosen.file(),
                    chosen.selection().reason());
        } catch (Exception | Error e) {
            device.close();
            throw e;
        }
    }

    public ModelRunner runner() {
        return runner;
    }

    /** The model file the runner opened. */
    public Path file() {
        return file;
    }

    public int deviceIndex() {
        return device.deviceIndex();
    }

    /**
     * Where the device index came from (Flink's gpu resource or the configuration), for the log.
     */
    public String deviceSource() {
        return device.source();
    }

    /** Why this backend runs the model, for the log. */
    public String backendChoice() {
        return backendChoice;
    }

    @Override
    public void close() {
        try {
            runner.close();
        } finally {
            device.close();
        }
    }
}
