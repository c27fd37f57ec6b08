package io.flinktrt.onnx;

import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static io.flinktrt.onnx.Onnx.FLOAT;
import static io.flinktrt.onnx.Onnx.INT64;
import static io.flinktrt.onnx.Onnx.UINT8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The rewrite for TensorRT's uint8 rule: ONNX Runtime gives exactly the original model's outputs
 * for the rewritten one on random uint8 inputs, uint8 tensors are left only where TensorRT takes
 * them (into the first Cast, out of the last), and models that cannot be made so are refused with
 * what to change in the export.
 */
class Uint8InputsTest {

    @Test
    void transposeThenCastAsTorchExportsCameraFrames() throws Exception {
        // img.permute(0, 3, 1, 2).float() / 255, with the uint8 value_info a torch export writes
        TestGraphs frames =
                new TestGraphs()
                        .input("frames", UINT8, "N", 4L, 5L, 3L)
                        .node(
                                "/Transpose",
                                "Transpose",
                                List.of("frames"),
                                List.of("chw"),
                                TestGraphs.intsAttribute("perm", 0, 3, 1, 2))
                        .cast("/Cast", "chw", "chw_float", FLOAT)
                        .floats("scale", 255f)
                        .node("/Div", "Div", List.of("chw_float", "scale"), List.of("pixels"))
                        .output("pixels", FLOAT, "N", 3L, 4L, 5L)
                        .valueInfo("chw", UINT8);
        Uint8Inputs.Rewritten rewritten =
                assertSameOutputs(frames.model(), Map.of("frames", new long[] {2, 4, 5, 3}));
        assertThat(rewritten.changes())
                .containsExactly(
                        "uint8 input 'frames' is cast to float32 where it enters",
                        "node '/Transpose' (Transpose) now runs in float32",
                        "node '/Cast' (Cast) to float32 is now an Identity");
    }

    @Test
    void theCommittedCameraFrameModel() throws Exception {
        byte[] model = Files.readAllBytes(TestModels.path(TestModels.IMAGE_UINT8));
        Uint8Inputs.Rewritten rewritten =
                assertSameOutputs(model, Map.of("frames", new long[] {2, 224, 224, 3}));
        assertThat(rewritten.changes())
                .contains("node '/Transpose' (Transpose) now runs in float32");
    }

    @Test
    void castFirst() throws Exception {
        TestGraphs model =
                new TestGraphs()
                        .input("x", UINT8, "N", 6L)
                        .cast("cast", "x", "xf", FLOAT)
                        .floats("w", 0.5f)
                        .node("mul", "Mul", List.of("xf", "w"), List.of("y"))
                        .output("y", FLOAT, "N", 6L);
        assertSameOutputs(model.model(), Map.of("x", new long[] {3, 6}));
    }

    @Test
    void reshapeSliceSplitConcatAndShapeBeforeTheCast() throws Exception {
        TestGraphs model =
                new TestGraphs()
                        .input("x", UINT8, "N", 2L, 8L)
                        .int64s("flat", 0, 16)
                        .int64s("start", 2)
                        .int64s("end", 12)
                        .int64s("axis", 1)
                        .node("reshape", "Reshape", List.of("x", "flat"), List.of("r"))
                        .node("slice", "Slice", List.of("r", "start", "end", "axis"), List.of("s"))
                        .node(
                                "split",
                                "Split",
                                List.of("s"),
                                List.of("s1", "s2"),
                                Onnx.intAttribute("axis", 1))
                        .node(
                                "concat",
                                "Concat",
                                List.of("s2", "s1"),
                                List.of("c"),
                                Onnx.intAttribute("axis", 1))
                        .node("shape", "Shape", List.of("x"), List.of("x_shape"))
                        .cast("to_half", "c", "h", Onnx.FLOAT16)
                        .cast("to_float", "h", "y", FLOAT)
                        .output("y", FLOAT, "N", 10L)
                        .output("x_shape", INT64, 3L)
                        .valueInfo("r", UINT8)
                        .valueInfo("s", UINT8)
                        .valueInfo("c", UINT8);
        Uint8Inputs.Rewritten rewritten =
                assertSameOutputs(model.model(), Map.of("x", new long[] {4, 2, 8}));
        assertThat(rewritten.changes())
                .contains("node 'concat' (Concat) now runs in float32")
                .noneMatch(change -> change.contains("'shape'") || change.contains("'to_half'"));
    }

    @Test
    void uint8OutputOfTheMovedInputIsCastBack() throws Exception {
        TestGraphs model =
                new TestGraphs()
                        .input("x", UINT8, "N", 3L, 4L)
                        .node(
                                "transpose",
                                "Transpose",
                                List.of("x"),
                                List.of("moved"),
                                TestGraphs.intsAttribute("perm", 0, 2, 1))
                        .cast("cast", "moved", "mf", FLOAT)
                        .node(
                                "sum",
                                "ReduceSum",
                                List.of("mf"),
                                List.of("total"),
                                Onnx.intAttribute("keepdims", 0))
                        .output("moved", UINT8, "N", 4L, 3L)
                        .output("total", FLOAT);
        Uint8Inputs.Rewritten rewritten =
                assertSameOutputs(model.model(), Map.of("x", new long[] {5, 3, 4}));
        assertThat(rewritten.changes())
                .contains("uint8 output 'moved' is cast back from float32 where it leaves");
    }

    @Test
    void nearestResizeAndTwoUint8Inputs() throws Exception {
        TestGraphs model =
                new TestGraphs()
                        .input("a", UINT8, "N", 1L, 2L, 2L)
                        .input("b", UINT8, "N", 1L, 4L, 4L)
                        .floats("scales", 1f, 1f, 2f, 2f)
                        .node("resize", "Resize", List.of("a", "", "scales"), List.of("big"))
                        .node(
                                "concat",
                                "Concat",
                                List.of("big", "b"),
                                List.of("both"),
                                Onnx.intAttribute("axis", 1))
                        .cast("cast", "both", "y", FLOAT)
                        .output("y", FLOAT, "N", 2L, 4L, 4L);
        assertSameOutputs(
                model.model(), Map.of("a", new long[] {2, 1, 2, 2}, "b", new long[] {2, 1, 4, 4}));
    }

    @Test
    void modelsWithoutUint8InputsAreLeftAlone() throws Exception {
        byte[] mlp = Files.readAllBytes(TestModels.path(TestModels.MLP));
        assertThat(Uint8Inputs.forTensorRt(mlp)).isEmpty();
    }

    @Test
    void refusesArithmeticOnUint8() {
        TestGraphs model =
                new TestGraphs()
                        .input("frames", UINT8, "N", 4L, 5L, 3L)
                        .node(
                                "/Transpose",
                                "Transpose",
                                List.of("frames"),
                                List.of("chw"),
                                TestGraphs.intsAttribute("perm", 0, 3, 1, 2))
                        .uint8s("two", (byte) 2)
                        .node("/Div", "Div", List.of("chw", "two"), List.of("half"))
                        .cast("/Cast", "half", "y", FLOAT)
                        .output("y", FLOAT, "N", 3L, 4L, 5L);
        assertRefused(
                model,
                "node '/Div' (Div) computes on uint8 tensor 'chw' (from input 'frames')",
                "`frames.float()` first");
    }

    @Test
    void refusesACastBackToUint8MidGraph() {
        TestGraphs model =
                new TestGraphs()
                        .input("x", UINT8, "N", 4L)
                        .cast("to_float", "x", "xf", FLOAT)
                        .floats("w", 0.5f)
                        .node("mul", "Mul", List.of("xf", "w"), List.of("scaled"))
                        .cast("to_uint8", "scaled", "q", UINT8)
                        .cast("back", "q", "y", FLOAT)
                        .output("y", FLOAT, "N", 4L);
        assertRefused(
                model,
                "node 'to_uint8' (Cast) casts to uint8 in the middle of the graph ('q' feeds node 'back' (Cast))",
                "Keep that tensor in float in the export");
    }

    @Test
    void refusesAUint8OutputThatNoCastMakes() {
        TestGraphs model =
                new TestGraphs()
                        .input("x", UINT8, "N", 4L)
                        .cast("to_float", "x", "xf", FLOAT)
                        .floats("scale", 0.5f)
                        .uint8s("zero", (byte) 0)
                        .node(
                                "quantize",
                                "QuantizeLinear",
                                List.of("xf", "scale", "zero"),
                                List.of("y"))
                        .output("y", UINT8, "N", 4L);
        assertRefused(
                model,
                "output 'y' is uint8 and comes from node 'quantize' (QuantizeLinear)",
                "TensorRT gives uint8 outputs only from a Cast");
    }

    @Test
    void refusesALossyCastAndALinearResize() {
        TestGraphs toInt8 =
                new TestGraphs()
                        .input("x", UINT8, "N", 4L)
                        .cast("to_int8", "x", "y", Onnx.INT8)
                        .output("y", Onnx.INT8, "N", 4L);
        assertRefused(
                toInt8,
                "node 'to_int8' (Cast) casts uint8 tensor 'x' (from input 'x') to int8",
                "Cast to float32 or int32");
        TestGraphs linear =
                new TestGraphs()
                        .input("x", UINT8, "N", 1L, 2L, 2L)
                        .floats("scales", 1f, 1f, 2f, 2f)
                        .node(
                                "resize",
                                "Resize",
                                List.of("x", "", "scales"),
                                List.of("big"),
                                TestGraphs.stringAttribute("mode", "linear"))
                        .cast("cast", "big", "y", FLOAT)
                        .output("y", FLOAT, "N", 1L, 4L, 4L);
        assertRefused(
                linear,
                "node 'resize' (Resize) interpolates uint8 tensor 'x' (mode 'linear')",
                "F.interpolate(");
    }

    @Test
    void refusesMixingWithOtherUint8TensorsAndUseInsideControlFlow() {
        TestGraphs mixed =
                new TestGraphs()
                        .input("x", UINT8, "N", 2L)
                        .uint8s("pad", (byte) 7, (byte) 9)
                        .int64s("batch_shape", 1, 2)
                        .node("reshape", "Reshape", List.of("pad", "batch_shape"), List.of("pad2"))
                        .node(
                                "concat",
                                "Concat",
                                List.of("x", "pad2"),
                                List.of("c"),
                                Onnx.intAttribute("axis", 0))
                        .cast("cast", "c", "y", FLOAT)
                        .output("y", FLOAT, "M", 2L);
        assertRefused(
                mixed,
                "node 'concat' (Concat) combines uint8 tensor 'x' (from input 'x') with 'pad2'",
                "before the Concat");
        TestGraphs branch =
                new TestGraphs()
                        .node("inner", "Identity", List.of("moved"), List.of("out"))
                        .output("out", UINT8);
        TestGraphs controlFlow =
                new TestGraphs()
                        .input("x", UINT8, "N", 2L)
                        .input("flag", Onnx.BOOL)
                        .node("move", "Identity", List.of("x"), List.of("moved"))
                        .node(
                                "if",
                                "If",
                                List.of("flag"),
                                List.of("chosen"),
                                TestGraphs.graphAttribute("then_branch", branch),
                                TestGraphs.graphAttribute("else_branch", branch))
                        .cast("cast", "chosen", "y", FLOAT)
                        .output("y", FLOAT, "N", 2L);
        assertRefused(
                controlFlow,
                "node 'if' (If) uses uint8 tensor 'moved' (from input 'x') inside its subgraph",
                "before the If");
    }

    @Test
    void refusesPassingAUint8InputThrough() {
        TestGraphs model = new TestGraphs().input("x", UINT8, "N", 2L).output("x", UINT8, "N", 2L);
        assertRefused(model, "uint8 input 'x' is also an output of the graph");
    }

    private static Uint8Inputs.Rewritten assertSameOutputs(
            byte[] original, Map<String, long[]> inputs) throws Exception {
        Uint8Inputs.Rewritten rewritten = Uint8Inputs.forTensorRt(original).orElseThrow();
        assertUint8OnlyAtTheEdges(rewritten.model());
        for (long seed = 1; seed <= 3; seed++) {
            Map<String, byte[]> expected = TestGraphs.run(original, inputs, seed);
            Map<String, byte[]> actual = TestGraphs.run(rewritten.model(), inputs, seed);
            assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
            expected.forEach(
                    (name, bytes) -> assertThat(actual.get(name)).as(name).isEqualTo(bytes));
        }
        return rewritten;
    }

    /**
     * What TensorRT allows: a uint8 input feeds one Cast only, a uint8 output comes from a Cast, no
     * uint8 value_info.
     */
    private static void assertUint8OnlyAtTheEdges(byte[] model) {
        ProtoMessage graph = ProtoMessage.parse(model).message(Onnx.MODEL_GRAPH).orElseThrow();
        List<ProtoMessage> nodes = graph.messages(Onnx.GRAPH_NODE);
        for (ProtoMessage input : graph.messages(Onnx.GRAPH_INPUT)) {
            if (Onnx.elementType(input) == UINT8) {
                String name = input.string(Onnx.VALUE_INFO_NAME);
                List<ProtoMessage> consumers =
                        nodes.stream()
                                .filter(n -> n.strings(Onnx.NODE_INPUT).contains(name))
                                .toList();
                assertThat(consumers)
                        .singleElement()
                        .satisfies(
                                cast -> {
                                    assertThat(cast.string(Onnx.NODE_OP_TYPE)).isEqualTo("Cast");
                                    assertThat(
                                                    cast.messages(Onnx.NODE_ATTRIBUTE)
                                                            .get(0)
                                                            .varint(Onnx.ATTRIBUTE_INT, 0))
                                            .isEqualTo(FLOAT);
                                });
            }
        }
        for (ProtoMessage output : graph.messages(Onnx.GRAPH_OUTPUT)) {
            if (Onnx.elementType(output) == UINT8) {
                String name = output.string(Onnx.VALUE_INFO_NAME);
                assertThat(nodes)
                        .filteredOn(n -> n.strings(Onnx.NODE_OUTPUT).contains(name))
                        .singleElement()
                        .satisfies(n -> assertThat(n.string(Onnx.NODE_OP_TYPE)).isEqualTo("Cast"));
            }
        }
        assertThat(graph.messages(Onnx.GRAPH_VALUE_INFO))
                .noneMatch(v -> Onnx.elementType(v) == UINT8);
    }

    private static void assertRefused(TestGraphs model, String... messageParts) {
        assertThatThrownBy(() -> Uint8Inputs.forTensorRt(model.model()))
                .isInstanceOf(UnsupportedModelException.class)
                .message()
                .contains(messageParts);
    }
}
