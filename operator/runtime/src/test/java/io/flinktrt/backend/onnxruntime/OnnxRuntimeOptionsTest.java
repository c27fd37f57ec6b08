package io.flinktrt.backend.onnxruntime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One case per rule of {@link OnnxRuntimeOptions#sanityCheck}, and that opening a model applies it.
 */
class OnnxRuntimeOptionsTest {

    @Test
    void intraOpThreadsDefaultsToZero() {
        assertThat(
                        OnnxRuntimeOptions.sanityCheck(Map.of("tensorrt.contexts", "x"))
                                .get(OnnxRuntimeOptions.INTRA_OP_THREADS))
                .isZero();
    }

    @Test
    void unknownKeysAreNamedWithTheKnownOnes() {
        assertThatThrownBy(() -> OnnxRuntimeOptions.sanityCheck(Map.of("onnxruntime.threads", "2")))
                .hasMessage(
                        "Unknown option onnxruntime.threads; the onnxruntime.* options are onnxruntime.intra-op-threads.");
    }

    @Test
    void intraOpThreadsMustBeAWholeNumber() {
        assertThatThrownBy(
                        () ->
                                OnnxRuntimeOptions.sanityCheck(
                                        Map.of("onnxruntime.intra-op-threads", "many")))
                .hasMessage("onnxruntime.intra-op-threads must be a whole number, was 'many'.");
    }

    @Test
    void intraOpThreadsMustNotBeNegative() {
        assertThatThrownBy(
                        () ->
                                OnnxRuntimeOptions.sanityCheck(
                                        Map.of("onnxruntime.intra-op-threads", "-1")))
                .hasMessageStartingWith("onnxruntime.intra-op-threads must be 0");
    }

    @Test
    void openingAModelChecksItsOptions() {
        ModelConfig config =
                new ModelConfig(
                        TestModels.path(TestModels.MLP),
                        0,
                        4,
                        1,
                        Map.of("onnxruntime.intra-op-threads", "-1"));
        assertThatThrownBy(() -> new OnnxRuntimeBackend().open(config).close())
                .isInstanceOf(BackendException.class)
                .hasMessageStartingWith("onnxruntime.intra-op-threads must be 0");
    }
}
