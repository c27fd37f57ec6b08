package io.flinktrt.backend.tensorrt;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShapesAndProfilesTest {

    @Test
    void parsesTrtexecStyleShapes() {
        Map<String, ShapeRange> shapes = ShapeRange.parseAll(List.of(
                "input:1x3x224x224/64x3x224x224/128x3x224x224,ids:0:8x16"));
        assertThat(shapes.get("input")).isEqualTo(new ShapeRange(
                new long[] {1, 3, 224, 224}, new long[] {64, 3, 224, 224}, new long[] {128, 3, 224, 224}));
        assertThat(shapes.get("ids:0")).isEqualTo(ShapeRange.fixed(new long[] {8, 16})); // name up to the last colon
        assertThat(shapes.get("input").toString()).isEqualTo("1x3x224x224/64x3x224x224/128x3x224x224");
    }

    @Test
    void rejectsBadShapes() {
        assertThatThrownBy(() -> ShapeRange.parseAll(List.of("1x3x224x224"))).hasMessageContaining("name:min/opt/max");
        assertThatThrownBy(() -> ShapeRange.parse("8x16/4x16/32x16")).hasMessageContaining("min <= opt <= max");
        assertThatThrownBy(() -> ShapeRange.parse("1x16/8x16")).hasMessageContaining("min/opt/max");
        assertThatThrownBy(() -> ShapeRange.parse("1xAx16")).hasMessageContaining("joined by 'x'");
        assertThatThrownBy(() -> ShapeRange.parseAll(List.of("a:1x2", "a:1x2"))).hasMessageContaining("twice");
    }

    @Test
    void bucketsBecomeOneProfilePerBucket() {
        List<Integer> buckets = OptimizationProfiles.parseBuckets("32, 1,8,128,8");
        assertThat(buckets).containsExactly(1, 8, 32, 128);

        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(inputs("x", new long[] {-1, 16}), Map.of(), buckets);
        assertThat(profiles).extracting(p -> p.get("x").toString())
                .containsExactly("1x16/1x16/1x16", "2x16/8x16/8x16", "9x16/32x16/32x16", "33x16/128x16/128x16");
    }

    @Test
    void bucketsTakeDynamicSampleDimensionsFromShapes() {
        Map<String, ShapeRange> shapes = ShapeRange.parseAll(List.of("ids:1x64/1x128/1x256"));
        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(inputs("ids", new long[] {-1, -1}), shapes, List.of(4, 16));
        assertThat(profiles).extracting(p -> p.get("ids").toString())
                .containsExactly("1x64/4x128/4x256", "5x64/16x128/16x256");
        assertThatThrownBy(() -> OptimizationProfiles.plan(inputs("ids", new long[] {-1, -1}), Map.of(), List.of(4)))
                .hasMessageContaining("Dimension 1 of input ids is dynamic");
    }

    @Test
    void dynamicBatchWithoutFlagsGetsDefaultBuckets() {
        List<Map<String, ShapeRange>> profiles =
                OptimizationProfiles.plan(inputs("x", new long[] {-1, 16}), Map.of(), List.of());
        assertThat(profiles).hasSize(OptimizationProfiles.DEFAULT_BUCKETS.size());
        assertThat(profiles.get(profiles.size() - 1).get("x").max()).containsExactly(64, 16);
    }

    @Test
    void shapesAloneGiveOneProfileAndFixedInputsStayFixed() {
        Map<String, long[]> inputs = inputs("x", new long[] {-1, 16});
        inputs.put("scale", new long[] {1});
        List<Map<String, ShapeRange>> profiles = OptimizationProfiles.plan(inputs,
                ShapeRange.parseAll(List.of("x:1x16/32x16/128x16")), List.of());
        assertThat(profiles).hasSize(1);
        assertThat(profiles.get(0).get("x").toString()).isEqualTo("1x16/32x16/128x16");
        assertThat(profiles.get(0).get("scale")).isEqualTo(ShapeRange.fixed(new long[] {1}));
    }

    @Test
    void shapesMustMatchTheModel() {
        assertThatThrownBy(() -> OptimizationProfiles.plan(inputs("x", new long[] {-1, 16}),
                ShapeRange.parseAll(List.of("y:1x16")), List.of())).hasMessageContaining("not an input");
        assertThatThrownBy(() -> OptimizationProfiles.plan(inputs("x", new long[] {-1, 16}),
                ShapeRange.parseAll(List.of("x:1x8/4x8/8x8")), List.of())).hasMessageContaining("fixed at 16");
        assertThatThrownBy(() -> OptimizationProfiles.plan(inputs("x", new long[] {1, 16}), Map.of(), List.of(8)))
                .hasMessageContaining("fixed batch of 1");
    }

    @Test
    void batchesArePaddedUpToTheirBucket() {
        BatchProfiles profiles = new BatchProfiles(List.of(
                new BatchProfiles.Profile(0, 1, 1, 1), new BatchProfiles.Profile(1, 2, 8, 8),
                new BatchProfiles.Profile(2, 9, 32, 32), new BatchProfiles.Profile(3, 33, 128, 128)), 128);
        assertThat(profiles.choose(1)).isEqualTo(new BatchProfiles.Choice(0, 1));
        assertThat(profiles.choose(2)).isEqualTo(new BatchProfiles.Choice(1, 8));
        assertThat(profiles.choose(9)).isEqualTo(new BatchProfiles.Choice(2, 32));
        assertThat(profiles.choose(100)).isEqualTo(new BatchProfiles.Choice(3, 128));
        assertThat(profiles.warmUpBatches()).containsExactly(1, 8, 32, 128);
        assertThatThrownBy(() -> profiles.choose(129)).hasMessageContaining("1..128");
    }

    /** Bucket times as measured for the BERT-like encoder on the H100 (ms), rounded. */
    @Test
    void onceBucketsAreTimedABatchRunsAsTheCheapestChunks() {
        BatchProfiles profiles = new BatchProfiles(List.of(
                new BatchProfiles.Profile(0, 1, 1, 1), new BatchProfiles.Profile(1, 2, 8, 8),
                new BatchProfiles.Profile(2, 9, 32, 32), new BatchProfiles.Profile(3, 33, 128, 128)), 128);
        assertThat(profiles.plan(40)).containsExactly(new BatchProfiles.Chunk(40, new BatchProfiles.Choice(3, 128)));
        profiles.useCosts(Map.of(1, 0.31, 8, 0.73, 32, 2.06, 128, 7.4));
        assertThat(profiles.plan(40)).containsExactlyInAnyOrder(
                new BatchProfiles.Chunk(32, new BatchProfiles.Choice(2, 32)), new BatchProfiles.Chunk(8, new BatchProfiles.Choice(1, 8)));
        assertThat(profiles.plan(128)).containsExactly(new BatchProfiles.Chunk(128, new BatchProfiles.Choice(3, 128)));
        assertThat(profiles.plan(110)).containsExactly(new BatchProfiles.Chunk(110, new BatchProfiles.Choice(3, 128)));
        assertThat(profiles.plan(3)).containsExactly(new BatchProfiles.Chunk(3, new BatchProfiles.Choice(1, 8)));
        assertThat(profiles.plan(65)).extracting(BatchProfiles.Chunk::rows).containsExactlyInAnyOrder(32, 32, 1);
    }

    /** A tiny model: every bucket takes about as long, and the timings are noise. */
    @Test
    void bucketsTimedAlikeDoNotPadSmallBatchesToTheLargest() {
        BatchProfiles profiles = new BatchProfiles(List.of(
                new BatchProfiles.Profile(0, 1, 1, 1), new BatchProfiles.Profile(1, 2, 8, 8),
                new BatchProfiles.Profile(2, 9, 32, 32)), 32);
        profiles.useCosts(Map.of(1, 0.021, 8, 0.022, 32, 0.020));
        assertThat(profiles.plan(3)).containsExactly(new BatchProfiles.Chunk(3, new BatchProfiles.Choice(1, 8)));
        assertThat(profiles.plan(20)).containsExactly(new BatchProfiles.Chunk(20, new BatchProfiles.Choice(2, 32)));
    }

    @Test
    void profilesWithRoomAboveOptAreNeverSplit() {
        BatchProfiles profiles = new BatchProfiles(List.of(new BatchProfiles.Profile(0, 1, 32, 128)), 128);
        profiles.useCosts(Map.of(32, 1.0));
        assertThat(profiles.plan(100)).containsExactly(new BatchProfiles.Chunk(100, new BatchProfiles.Choice(0, 100)));
    }

    @Test
    void paddingStaysWithinTheRunnersMaxBatch() {
        BatchProfiles profiles = new BatchProfiles(List.of(new BatchProfiles.Profile(0, 1, 32, 128)), 20);
        assertThat(profiles.choose(5)).isEqualTo(new BatchProfiles.Choice(0, 20)); // opt 32 is above the limit
        assertThat(profiles.warmUpBatches()).containsExactly(20);
        BatchProfiles wide = new BatchProfiles(List.of(new BatchProfiles.Profile(0, 1, 32, 128)), 128);
        assertThat(wide.choose(5)).isEqualTo(new BatchProfiles.Choice(0, 32));
        assertThat(wide.choose(50)).isEqualTo(new BatchProfiles.Choice(0, 50)); // above opt: run as it is
    }

    @Test
    void tacticSourcesAcceptTensorRtNames() {
        assertThat(BuildOptions.parseTacticSources("kEDGE_MASK_CONVOLUTIONS, jit_convolutions,CUDNN"))
                .containsExactly("EDGE_MASK_CONVOLUTIONS", "JIT_CONVOLUTIONS", "CUDNN");
        assertThatThrownBy(() -> BuildOptions.parseTacticSources("CUTLASS")).hasMessageContaining("Unknown tactic source");
    }

    private static Map<String, long[]> inputs(String name, long[] dims) {
        Map<String, long[]> inputs = new LinkedHashMap<>();
        inputs.put(name, dims);
        return inputs;
    }
}
