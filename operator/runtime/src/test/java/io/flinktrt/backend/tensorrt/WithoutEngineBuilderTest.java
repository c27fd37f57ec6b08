package io.flinktrt.backend.tensorrt;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The runtime alone (no flink-tensorrt-engine-builder on the classpath, as in this module's tests)
 * runs plans and leaves ONNX files to ONNX Runtime.
 */
class WithoutEngineBuilderTest {

    @Test
    void acceptsPlansButNotOnnxFiles() {
        assertThat(OnnxPlanBuilder.find()).isEmpty();
        TensorRtBackend backend = new TensorRtBackend();
        assertThat(backend.accepts(Path.of("m.plan"))).isTrue();
        assertThat(backend.accepts(Path.of("m.engine"))).isTrue();
        assertThat(backend.accepts(Path.of("m.onnx"))).isFalse();
    }
}
