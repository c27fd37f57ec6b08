package io.flinktrt.backend.tensorrt;

import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One case per rule of {@link TensorRtOptions#sanityCheck}. */
class TensorRtOptionsTest {

    @Test
    void leftOutOptionsTakeTheirDefaultsAndOtherBackendsOptionsAreLeftAlone() {
        Configuration config =
                TensorRtOptions.sanityCheck(Map.of("onnxruntime.intra-op-threads", "x"));

        assertThat(config.get(TensorRtOptions.CONTEXTS)).isEqualTo(2);
        assertThat(config.get(TensorRtOptions.CUDA_GRAPHS)).isTrue();
        assertThat(config.get(TensorRtOptions.ALLOW_HOST_CODE)).isFalse();
        assertThat(config.getOptional(TensorRtOptions.BATCH_BUCKETS)).isEmpty();
    }

    @Test
    void givenOptionsAreTyped() {
        Configuration config =
                TensorRtOptions.sanityCheck(
                        Map.of(
                                "tensorrt.contexts",
                                " 4 ",
                                "tensorrt.cuda-graphs",
                                "FALSE",
                                "tensorrt.batch-buckets",
                                "1,8"));

        assertThat(config.get(TensorRtOptions.CONTEXTS)).isEqualTo(4);
        assertThat(config.get(TensorRtOptions.CUDA_GRAPHS)).isFalse();
        assertThat(config.get(TensorRtOptions.BATCH_BUCKETS)).isEqualTo("1,8");
    }

    @Test
    void unknownKeysAreNamedWithTheKnownOnes() {
        assertThatThrownBy(() -> TensorRtOptions.sanityCheck(Map.of("tensorrt.context", "2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Unknown option tensorrt.context")
                .hasMessageContaining("tensorrt.contexts");
    }

    @Test
    void booleansMustBeTrueOrFalse() {
        assertThatThrownBy(() -> TensorRtOptions.sanityCheck(Map.of("tensorrt.cuda-graphs", "yes")))
                .hasMessage("tensorrt.cuda-graphs must be true or false, was 'yes'.");
    }

    @Test
    void contextsMustBeAWholeNumber() {
        assertThatThrownBy(() -> TensorRtOptions.sanityCheck(Map.of("tensorrt.contexts", "two")))
                .hasMessage("tensorrt.contexts must be a whole number, was 'two'.");
    }

    @Test
    void contextsMustBeAtLeastOne() {
        assertThatThrownBy(() -> TensorRtOptions.sanityCheck(Map.of("tensorrt.contexts", "0")))
                .hasMessageStartingWith("tensorrt.contexts must be at least 1, was 0");
    }

    @Test
    void thePlanCacheDirMustNotBeEmpty() {
        assertThatThrownBy(
                        () -> TensorRtOptions.sanityCheck(Map.of("tensorrt.plan-cache-dir", " ")))
                .hasMessageContaining("tensorrt.plan-cache-dir is empty; give a writable folder");
    }

    @Test
    void batchBucketsMustBePositiveSizes() {
        assertThatThrownBy(
                        () -> TensorRtOptions.sanityCheck(Map.of("tensorrt.batch-buckets", "1,x")))
                .hasMessageStartingWith(
                        "tensorrt.batch-buckets: Batch buckets are batch sizes like 1,8,32,128");
        assertThatThrownBy(
                        () -> TensorRtOptions.sanityCheck(Map.of("tensorrt.batch-buckets", "0,8")))
                .hasMessageContaining("must be positive");
    }
}
