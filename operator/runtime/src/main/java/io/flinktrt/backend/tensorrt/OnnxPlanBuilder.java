package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;

import java.nio.file.Path;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Turns an ONNX model into a plan for this GPU when a job is given an {@code .onnx} file. The
 * runtime only loads plans; the engine builder module (flink-tensorrt-engine-builder) provides this
 * as a service, so a runtime without it still runs plans and leaves ONNX files to ONNX Runtime.
 */
@Internal
public interface OnnxPlanBuilder {

    /** The plan to load for {@code onnx} on {@code gpu}, built first if none is cached. */
    Path planFor(Path onnx, ModelConfig config, Configuration tensorRt, GpuInfo gpu)
            throws BackendException;

    /** The builder on the classpath, if any. */
    static Optional<OnnxPlanBuilder> find() {
        return ServiceLoader.load(OnnxPlanBuilder.class, OnnxPlanBuilder.class.getClassLoader())
                .findFirst();
    }
}
