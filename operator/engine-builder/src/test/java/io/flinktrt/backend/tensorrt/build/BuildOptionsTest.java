package io.flinktrt.backend.tensorrt.build;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The builder's defaults, and one case per rule of its sanity check. */
class BuildOptionsTest {

    private static final Path ONNX = Path.of("m.onnx");
    private static final Path PLAN = Path.of("m.plan");

    @Test
    void onlyTheModelAndThePlanAreNeeded() {
        BuildOptions options = BuildOptions.builder(ONNX, PLAN).build();

        assertThat(options.fp16()).isFalse();
        assertThat(options.int8()).isFalse();
        assertThat(options.workspaceMiB()).isEqualTo(BuildOptions.DEFAULT_WORKSPACE_MIB);
        assertThat(options.optimizationLevel()).isEqualTo(BuildOptions.DEFAULT_OPTIMIZATION_LEVEL);
        assertThat(options.tacticSources())
                .containsExactly("EDGE_MASK_CONVOLUTIONS", "JIT_CONVOLUTIONS");
        assertThat(options.batchBuckets()).isEmpty();
        assertThat(options.shapes()).isEmpty();
        assertThat(options.device()).isZero();
    }

    @Test
    void aStronglyTypedBuildTakesNoPrecisionFlags() {
        assertThat(BuildOptions.builder(ONNX, PLAN).setStronglyTyped(true).build().stronglyTyped())
                .isTrue();
        assertThatThrownBy(
                        () ->
                                BuildOptions.builder(ONNX, PLAN)
                                        .setStronglyTyped(true)
                                        .setFp16(true)
                                        .build())
                .hasMessageContaining("leave out --fp16 and --int8");
    }

    @Test
    void thePlanPathIsNeeded() {
        assertThatThrownBy(() -> BuildOptions.builder(ONNX, null).build())
                .hasMessageContaining("No path for the plan");
    }

    @Test
    void theModelIsNeeded() {
        assertThatThrownBy(() -> BuildOptions.builder(null, PLAN).build())
                .hasMessageContaining("No ONNX model");
    }

    @Test
    void theOptimizationLevelIsZeroToFive() {
        assertThatThrownBy(() -> BuildOptions.builder(ONNX, PLAN).setOptimizationLevel(6).build())
                .hasMessageContaining("The optimization level is 0 to 5");
    }

    @Test
    void theWorkspaceNeedsAMebibyte() {
        assertThatThrownBy(() -> BuildOptions.builder(ONNX, PLAN).setWorkspaceMiB(0).build())
                .hasMessageContaining("at least 1 MiB");
    }

    @Test
    void theDeviceIsNotNegative() {
        assertThatThrownBy(() -> BuildOptions.builder(ONNX, PLAN).setDevice(-1).build())
                .hasMessageContaining("The GPU index is 0 or more");
    }

    @Test
    void tacticSourcesAreTensorRtsOwn() {
        assertThatThrownBy(
                        () ->
                                BuildOptions.builder(ONNX, PLAN)
                                        .setTacticSources(List.of("CUTLASS"))
                                        .build())
                .hasMessageContaining("Unknown tactic source 'CUTLASS'");
    }

    @Test
    void calibrationNeedsInt8() {
        assertThatThrownBy(
                        () ->
                                BuildOptions.builder(ONNX, PLAN)
                                        .setInt8(false, Path.of("calib"), null)
                                        .build())
                .hasMessageContaining("only used for INT8");
    }
}
