package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.backend.tensorrt.plan.BatchBuckets;
import io.flinktrt.backend.tensorrt.plan.ShapeRange;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShapesAndProfilesTest {

    @Test
    void parsesTrtexecStyleShapes() {
        Map<String, ShapeRange> shapes =
                ShapeRange.parseAll(
                        List.of("input:1x3x224x224/64x3x224x224/128x3x224x224,ids:0:8x16"));
        assertThat(shapes.get("input"))
                .isEqualTo(
                        new ShapeRange(
                                new long[] {1, 3, 224, 224},
                                new long[] {64, 3, 224, 224},
                                new long[] {128, 3, 224, 224}));
        assertThat(shapes.get("ids:0"))
                .isEqualTo(ShapeRange.fixed(new long[] {8, 16})); // name up to the last colon
        assertThat(shapes.get("input").toString())
                .isEqualTo("1x3x224x224/64x3x224x224/128x3x224x224");
    }

    @Test
    void rejectsBadShapes() {
        assertThatThrownBy(() -> ShapeRange.parseAll(List.of("1x3x224x224")))
                .hasMessageContaining("name:min/opt/max");
        assertThatThrownBy(() -> ShapeRange.parse("8x16/4x16/32x16"))
                .hasMessageContaining("min <= opt <= max");
        assertThatThrownBy(() -> ShapeRange.parse("1x16/8x16")).hasMessageContaining("min/opt/max");
        assertThatThrownBy(() -> ShapeRange.parse("1xAx16")).hasMessageContaining("joined by 'x'");
        assertThatThrownBy(() -> ShapeRange.parseAll(List.of("a:1x2", "a:1x2")))
                .hasMessageContaining("has two shape ranges");
    }

    @Test
    void bucketsBecomeOneProfilePerBucket() {
        List<Integer> buckets = BatchBuckets.parse("32, 1,8,128,8");
        assertThat(buckets).containsExactly(1, 8, 32, 128);

        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(inputs("x", new long[] {-1, 16}), Map.of(), buckets);
        assertThat(profiles)
                .extracting(p -> p.get("x").toString())
                .containsExactly(
                        "1x16/1x16/1x16",
                        "2x16/8x16/8x16",
                        "9x16/32x16/32x16",
                        "33x16/128x16/128x16");
    }

    @Test
    void bucketsTakeDynamicSampleDimensionsFromShapes() {
        Map<String, ShapeRange> shapes = ShapeRange.parseAll(List.of("ids:1x64/1x128/1x256"));
        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(
                        inputs("ids", new long[] {-1, -1}), shapes, List.of(4, 16));
        assertThat(profiles)
                .extracting(p -> p.get("ids").toString())
                .containsExactly("1x64/4x128/4x256", "5x64/16x128/16x256");
        assertThatThrownBy(
                        () ->
                                OptimizationProfiles.plan(
                                        inputs("ids", new long[] {-1, -1}), Map.of(), List.of(4)))
                .hasMessageContaining("Dimension 1 of input ids is dynamic");
    }

    @Test
    void dynamicBatchWithoutFlagsGetsDefaultBuckets() {
        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(inputs("x", new long[] {-1, 16}), Map.of(), List.of());
        assertThat(profiles).hasSize(BatchBuckets.DEFAULTS.size());
        assertThat(profiles.get(profiles.size() - 1).get("x").max()).containsExactly(64, 16);
    }

    @Test
    void shapesAloneGiveOneProfileAndFixedInputsStayFixed() {
        Map<String, long[]> inputs = inputs("x", new long[] {-1, 16});
        inputs.put("scale", new long[] {1});
        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(
                        inputs, ShapeRange.parseAll(List.of("x:1x16/32x16/128x16")), List.of());
        assertThat(profiles).hasSize(1);
        assertThat(profiles.get(0).get("x").toString()).isEqualTo("1x16/32x16/128x16");
        assertThat(profiles.get(0).get("scale")).isEqualTo(ShapeRange.fixed(new long[] {1}));
    }

    @Test
    void shapesMustMatchTheModel() {
        assertThatThrownBy(
                        () ->
                                OptimizationProfiles.plan(
                                        inputs("x", new long[] {-1, 16}),
                                        ShapeRange.parseAll(List.of("y:1x16")),
                                        List.of()))
                .hasMessageContaining("not an input");
        assertThatThrownBy(
                        () ->
                                OptimizationProfiles.plan(
                                        inputs("x", new long[] {-1, 16}),
                                        ShapeRange.parseAll(List.of("x:1x8/4x8/8x8")),
                                        List.of()))
                .hasMessageContaining("fixed at 16");
        assertThatThrownBy(
                        () ->
                                OptimizationProfiles.plan(
                                        inputs("x", new long[] {1, 16}), Map.of(), List.of(8)))
                .hasMessageContaining("fixed batch of 1");
    }

    @Test
    void sequenceLengthsSplitEachBatchBucketIntoOneProfilePerLength() {
        Map<String, long[]> inputs = new LinkedHashMap<>();
        inputs.put("input_ids", new long[] {-1, -1});
        inputs.put("attention_mask", new long[] {-1, -1});
        inputs.put("image", new long[] {-1, 3}); // fixed after the batch: kept
        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(inputs, Map.of(), List.of(8, 32), List.of(16, 128));
        assertThat(profiles)
                .extracting(p -> p.get("input_ids").toString())
                .containsExactly(
                        "1x1/8x16/8x16",
                        "1x17/8x128/8x128",
                        "9x1/32x16/32x16",
                        "9x17/32x128/32x128");
        assertThat(profiles)
                .extracting(p -> p.get("attention_mask"))
                .isEqualTo(profiles.stream().map(p -> p.get("input_ids")).toList());
        assertThat(profiles)
                .extracting(p -> p.get("image").toString())
                .containsExactly("1x3/8x3/8x3", "1x3/8x3/8x3", "9x3/32x3/32x3", "9x3/32x3/32x3");
        assertThatThrownBy(
                        () ->
                                OptimizationProfiles.plan(
                                        inputs("x", new long[] {-1, 16}),
                                        Map.of(),
                                        List.of(8),
                                        List.of(16, 128)))
                .hasMessageContaining(
                        "Sequence lengths need an input whose dimension after the batch is dynamic");
    }

    @Test
    void tacticSourcesAcceptTensorRtNames() {
        assertThat(
                        BuildOptions.parseTacticSources(
                                "kEDGE_MASK_CONVOLUTIONS, jit_convolutions,CUDNN"))
                .containsExactly("EDGE_MASK_CONVOLUTIONS", "JIT_CONVOLUTIONS", "CUDNN");
        assertThatThrownBy(() -> BuildOptions.parseTacticSources("CUTLASS"))
                .hasMessageContaining("Unknown tactic source 'CUTLASS'");
    }

    private static Map<String, long[]> inputs(String name, long[] dims) {
        Map<String, long[]> inputs = new LinkedHashMap<>();
        inputs.put(name, dims);
        return inputs;
    }
}
