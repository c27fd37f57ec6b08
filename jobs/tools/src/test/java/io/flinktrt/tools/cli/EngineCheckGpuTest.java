package io.flinktrt.tools.cli;

import io.flinktrt.backend.tensorrt.GpuTestSupport;
import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * build-engine --check on a real GPU: the repo's test models on TensorRT agree with ONNX Runtime.
 */
@Tag("gpu")
class EngineCheckGpuTest {

    @TempDir static Path dir;

    @BeforeAll
    static void needsGpu() {
        System.out.println(GpuTestSupport.requireTensorRt());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                TestModels.MLP,
                TestModels.TWO_IN_TWO_OUT,
                TestModels.TOKENS,
                TestModels.IMAGE_UINT8
            })
    void matchesOnnxRuntime(String model) throws Exception {
        Path plan =
                GpuTestSupport.buildPlan(
                        TestModels.path(model), dir.resolve(model + ".plan"), List.of(1, 8, 32));
        for (int rows : new int[] {1, 5, 20, 32}) {
            EngineCheck.Report report =
                    EngineCheck.compare(plan, TestModels.path(model), rows, rows, 0, Map.of());
            System.out.printf(
                    "%s rows=%d executed=%d %.3f ms %s%n",
                    model,
                    rows,
                    report.tensorRt().executedRows(),
                    report.tensorRt().computeNanos() / 1e6,
                    report.outputs());
            for (EngineCheck.OutputDiff diff : report.outputs()) {
                assertThat(diff.maxAbsDiff())
                        .as(diff.toString())
                        .isLessThan(1e-2); // TF32 is on by default
                if (diff.hasTop1()) {
                    assertThat(diff.top1Agreement()).as(diff.toString()).isEqualTo(rows);
                }
            }
        }
    }
}
