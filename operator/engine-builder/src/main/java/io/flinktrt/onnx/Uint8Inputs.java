package io.flinktrt.onnx;

import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.flinktrt.onnx.Onnx.FLOAT;
import static io.flinktrt.onnx.Onnx.UINT8;

/**
 * Makes models with uint8 inputs buildable by TensorRT, which allows uint8 tensors only as a Cast's
 * input right at a network input or a Cast's output right at a network output. Camera-frame models
 * usually move the uint8 frame first and convert it later (torch {@code
 * img.permute(0,3,1,2).float()} is Transpose(uint8) then Cast). The rewrite casts each uint8 input
 * to float32 where it enters, as the only consumer of the input, and runs every node between it and
 * the model's own casts in float32. That is exact only for nodes that move values without computing
 * new ones (transpose, reshape, slice, gather, concat, nearest resize, ...): uint8 values 0-255 are
 * exact in float32. The model's own Cast to float32 becomes an Identity, a Cast to a type that
 * holds 0-255 exactly stays, and a uint8 graph output reached this way gets a Cast back to uint8.
 * Anything else on the uint8 path (arithmetic, a lossy cast, a Cast to uint8 mid-graph, control
 * flow) is refused with what to change in the export.
 */
@Internal
public final class Uint8Inputs {

    /** The rewritten model and what was changed, one line each. */
    public record Rewritten(byte[] model, List<String> changes) {}

    /**
     * Ops that only move or select values: their data inputs (index; -1 = all inputs) may be uint8
     * made float.
     */
    private static final Map<String, Integer> MOVES_VALUES =
            Map.ofEntries(
                    Map.entry("Transpose", 0),
                    Map.entry("Reshape", 0),
                    Map.entry("Flatten", 0),
                    Map.entry("Squeeze", 0),
                    Map.entry("Unsqueeze", 0),
                    Map.entry("Slice", 0),
                    Map.entry("Gather", 0),
                    Map.entry("GatherElements", 0),
                    Map.entry("GatherND", 0),
                    Map.entry("Identity", 0),
                    Map.entry("Expand", 0),
                    Map.entry("Tile", 0),
                    Map.entry("Split", 0),
                    Map.entry("DepthToSpace", 0),
                    Map.entry("SpaceToDepth", 0),
                    Map.entry("Pad", 0),
                    Map.entry("Resize", 0),
                    Map.entry("Concat", -1));

    /** Ops that read only the shape of their input. */
    private static final Set<String> READS_SHAPE = Set.of("Shape", "Size");

    /**
     * Cast targets that hold 0-255 exactly, so casting from float32 gives what casting from uint8
     * gave.
     */
    private static final Set<Integer> EXACT_CAST_TARGETS =
            Set.of(
                    Onnx.FLOAT16,
                    Onnx.BFLOAT16,
                    Onnx.DOUBLE,
                    Onnx.INT16,
                    Onnx.UINT16,
                    Onnx.INT32,
                    Onnx.UINT32,
                    Onnx.INT64,
                    Onnx.UINT64,
                    Onnx.BOOL);

    private final ProtoMessage model;
    private final ProtoMessage graph;
    private final List<ProtoMessage> nodes;
    private final Set<String> graphOutputs = new LinkedHashSet<>();

    /** Tensors on the uint8 path, each with the uint8 input it comes from. */
    private final Map<String, String> region = new LinkedHashMap<>();

    /** Nodes (by index) that now compute in float32, for the report. */
    private final List<Integer> nowFloat = new ArrayList<>();

    private final Set<Integer> castsToIdentity = new HashSet<>();

    private Uint8Inputs(ProtoMessage model, ProtoMessage graph) {
        this.model = model;
        this.graph = graph;
        this.nodes = new ArrayList<>(graph.messages(Onnx.GRAPH_NODE));
        graph.messages(Onnx.GRAPH_OUTPUT)
                .forEach(o -> graphOutputs.add(o.string(Onnx.VALUE_INFO_NAME)));
    }

    /**
     * @param model a serialized ONNX ModelProto
     * @return the rewritten model, or empty when it has no uint8 input (it is then left to TensorRT
     *     as it is)
     * @throws IllegalArgumentException when the bytes are not a protocol buffers message
     */
    public static Optional<Rewritten> forTensorRt(byte[] model) throws UnsupportedModelException {
        ProtoMessage parsed = ProtoMessage.parse(model);
        Optional<ProtoMessage> graph = parsed.message(Onnx.MODEL_GRAPH);
        if (graph.isEmpty()) {
            return Optional.empty();
        }
        Uint8Inputs rewrite = new Uint8Inputs(parsed, graph.get());
        List<String> inputs = rewrite.uint8Inputs();
        if (inputs.isEmpty()) {
            return Optional.empty();
        }
        inputs.forEach(input -> rewrite.region.put(input, input));
        rewrite.followUint8Path();
        rewrite.checkCastsToUint8();
        rewrite.checkUint8Outputs();
        return Optional.of(rewrite.rewrite(inputs));
    }

    private List<String> uint8Inputs() throws UnsupportedModelException {
        Set<String> initializers = new HashSet<>();
        graph.messages(Onnx.GRAPH_INITIALIZER)
                .forEach(t -> initializers.add(t.string(Onnx.TENSOR_NAME)));
        List<String> inputs = new ArrayList<>();
        for (ProtoMessage input : graph.messages(Onnx.GRAPH_INPUT)) {
            String name = input.string(Onnx.VALUE_INFO_NAME);
            if (Onnx.elementType(input) == UINT8 && !initializers.contains(name)) {
                if (graphOutputs.contains(name)) {
                    throw new UnsupportedModelException(
                            "uint8 input '"
                                    + name
                                    + "' is also an output of the graph,"
                                    + " unchanged; TensorRT cannot pass a uint8 input through. Drop that output from the export.");
                }
                inputs.add(name);
            }
        }
        return inputs;
    }

    /**
     * Walks the nodes (in their topological order) from the uint8 inputs through ops that only move
     * values.
     */
    private void followUint8Path() throws UnsupportedModelException {
        for (int index = 0; index < nodes.size(); index++) {
            ProtoMessage node = nodes.get(index);
            List<String> inputs = node.strings(Onnx.NODE_INPUT);
            String uint8 = inputs.stream().filter(region::containsKey).findFirst().orElse(null);
            checkSubgraphs(node);
            if (uint8 == null) {
                continue;
            }
            String op = node.string(Onnx.NODE_OP_TYPE);
            String domain = node.string(Onnx.NODE_DOMAIN);
            if (!domain.isEmpty() && !domain.equals("ai.onnx")) {
                throw computes(node, uint8);
            }
            if (READS_SHAPE.contains(op)) {
                continue;
            }
            if (op.equals("Cast")) {
                castFromUint8(index, node, uint8);
                continue;
            }
            Integer dataInput = MOVES_VALUES.get(op);
            if (dataInput == null) {
                throw computes(node, uint8);
            }
            checkMove(node, op, inputs, dataInput);
            nowFloat.add(index);
            for (String output : node.strings(Onnx.NODE_OUTPUT)) {
                if (!output.isEmpty()) {
                    region.put(output, region.get(uint8));
                }
            }
        }
    }

    private void checkMove(ProtoMessage node, String op, List<String> inputs, int dataInput)
            throws UnsupportedModelException {
        for (int i = 0; i < inputs.size(); i++) {
            String input = inputs.get(i);
            boolean data = dataInput < 0 || i == dataInput;
            if (!data && region.containsKey(input)) {
                throw new UnsupportedModelException(
                        where(node)
                                + " takes uint8 tensor '"
                                + input
                                + "' (from input '"
                                + region.get(input)
                                + "') as its input "
                                + i
                                + ", which is not data it moves; convert that"
                                + " tensor to int64 (torch `.long()`) in the export.");
            }
            if (data && !input.isEmpty() && !region.containsKey(input)) {
                String uint8 =
                        inputs.stream().filter(region::containsKey).findFirst().orElseThrow();
                throw new UnsupportedModelException(
                        where(node)
                                + " combines uint8 tensor '"
                                + uint8
                                + "' (from input '"
                                + region.get(uint8)
                                + "') with '"
                                + input
                                + "', which does not come from a uint8 input; convert"
                                + " both to float (torch `.float()`) before the "
                                + op
                                + " in the export.");
            }
        }
        if (op.equals("Resize")) {
            String mode =
                    attribute(node, "mode")
                            .map(a -> a.string(Onnx.ATTRIBUTE_STRING))
                            .orElse("nearest");
            if (!mode.equals("nearest")) {
                throw new UnsupportedModelException(
                        where(node)
                                + " interpolates uint8 tensor '"
                                + inputs.get(0)
                                + "' (mode '"
                                + mode
                                + "'), which rounds its results to whole numbers; in float32 they would not"
                                + " be rounded. Resize after converting to float in the export, e.g. torch"
                                + " `F.interpolate(frames.permute(0, 3, 1, 2).float(), ...)`.");
            }
        }
        if (op.equals("Pad") && inputs.size() > 2 && !inputs.get(2).isEmpty()) {
            throw new UnsupportedModelException(
                    where(node)
                            + " pads uint8 tensor '"
                            + inputs.get(0)
                            + "' with the"
                            + " uint8 value '"
                            + inputs.get(2)
                            + "'; pad after converting to float in the export, or pad with"
                            + " the default 0.");
        }
    }

    private void castFromUint8(int index, ProtoMessage node, String uint8)
            throws UnsupportedModelException {
        long to = attribute(node, "to").map(a -> a.varint(Onnx.ATTRIBUTE_INT, 0)).orElse(0L);
        if (to == FLOAT) {
            castsToIdentity.add(index);
        } else if (to != UINT8
                && !EXACT_CAST_TARGETS.contains((int) to)) { // a Cast to uint8: checkCastsToUint8
            throw new UnsupportedModelException(
                    where(node)
                            + " casts uint8 tensor '"
                            + uint8
                            + "' (from input '"
                            + region.get(uint8)
                            + "') to "
                            + Onnx.typeName(to)
                            + "; from float32 that cast can give other values"
                            + " than from uint8. Cast to float32 or int32 instead in the export (torch `.float()` or `.int()`).");
        }
    }

    /** TensorRT keeps no uint8 tensor between layers, so a Cast to uint8 must end the graph. */
    private void checkCastsToUint8() throws UnsupportedModelException {
        for (ProtoMessage node : nodes) {
            if (!node.string(Onnx.NODE_OP_TYPE).equals("Cast")
                    || attribute(node, "to").map(a -> a.varint(Onnx.ATTRIBUTE_INT, 0)).orElse(0L)
                            != UINT8) {
                continue;
            }
            String output = node.strings(Onnx.NODE_OUTPUT).get(0);
            Optional<ProtoMessage> consumer =
                    nodes.stream()
                            .filter(n -> n.strings(Onnx.NODE_INPUT).contains(output))
                            .findFirst();
            if (consumer.isPresent() || !graphOutputs.contains(output)) {
                throw new UnsupportedModelException(
                        where(node)
                                + " casts to uint8 in the middle of the graph ('"
                                + output
                                + "' "
                                + consumer.map(c -> "feeds " + where(c))
                                        .orElse("is not a graph output")
                                + "); TensorRT has no uint8 tensors between layers. Keep that tensor in float in the export"
                                + " (torch `.floor().clamp(0, 255)` instead of `.to(torch.uint8)` if the rounding matters),"
                                + " or make it an output of the model.");
            }
        }
    }

    /** A uint8 output must come from a Cast, or from the uint8 path (it then gets one). */
    private void checkUint8Outputs() throws UnsupportedModelException {
        for (ProtoMessage output : graph.messages(Onnx.GRAPH_OUTPUT)) {
            String name = output.string(Onnx.VALUE_INFO_NAME);
            if (Onnx.elementType(output) != UINT8 || region.containsKey(name)) {
                continue;
            }
            Optional<ProtoMessage> producer =
                    nodes.stream()
                            .filter(n -> n.strings(Onnx.NODE_OUTPUT).contains(name))
                            .findFirst();
            if (producer.isEmpty() || !producer.get().string(Onnx.NODE_OP_TYPE).equals("Cast")) {
                throw new UnsupportedModelException(
                        "output '"
                                + name
                                + "' is uint8 and comes from "
                                + producer.map(Uint8Inputs::where).orElse("no node (a constant)")
                                + "; TensorRT gives uint8"
                                + " outputs only from a Cast. End the export with a conversion of a float tensor"
                                + " (torch `y.to(torch.uint8)`), or return float.");
            }
        }
    }

    /**
     * Control flow could read a uint8 tensor inside its subgraph, where the rewrite does not reach.
     */
    private void checkSubgraphs(ProtoMessage node) throws UnsupportedModelException {
        for (ProtoMessage attribute : node.messages(Onnx.NODE_ATTRIBUTE)) {
            List<ProtoMessage> subgraphs =
                    new ArrayList<>(attribute.messages(Onnx.ATTRIBUTE_GRAPH));
            subgraphs.addAll(attribute.messages(Onnx.ATTRIBUTE_GRAPHS));
            for (ProtoMessage subgraph : subgraphs) {
                for (String used : namesUsedIn(subgraph)) {
                    if (region.containsKey(used)) {
                        throw new UnsupportedModelException(
                                where(node)
                                        + " uses uint8 tensor '"
                                        + used
                                        + "' (from input '"
                                        + region.get(used)
                                        + "') inside its subgraph; convert it to float"
                                        + " (torch `.float()`) before the "
                                        + node.string(Onnx.NODE_OP_TYPE)
                                        + " in the export.");
                    }
                }
            }
        }
    }

    private static Set<String> namesUsedIn(ProtoMessage subgraph) {
        Set<String> used = new HashSet<>();
        for (ProtoMessage node : subgraph.messages(Onnx.GRAPH_NODE)) {
            used.addAll(node.strings(Onnx.NODE_INPUT));
            for (ProtoMessage attribute : node.messages(Onnx.NODE_ATTRIBUTE)) {
                attribute.messages(Onnx.ATTRIBUTE_GRAPH).forEach(g -> used.addAll(namesUsedIn(g)));
                attribute.messages(Onnx.ATTRIBUTE_GRAPHS).forEach(g -> used.addAll(namesUsedIn(g)));
            }
        }
        return used;
    }

    private Rewritten rewrite(List<String> inputs) {
        Set<String> taken = allNames();
        Map<String, String> renamed = new HashMap<>();
        List<ProtoMessage> first = new ArrayList<>();
        List<ProtoMessage> last = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (String input : inputs) {
            String asFloat = unique(input + "_float", taken);
            renamed.put(input, asFloat);
            first.add(Onnx.cast(unique("uint8_to_float_" + input, taken), input, asFloat, FLOAT));
            changes.add("uint8 input '" + input + "' is cast to float32 where it enters");
        }
        for (String output : graphOutputs) {
            if (region.containsKey(output)) {
                String asFloat = unique(output + "_float", taken);
                renamed.put(output, asFloat);
                last.add(
                        Onnx.cast(
                                unique("float_to_uint8_" + output, taken), asFloat, output, UINT8));
                changes.add(
                        "uint8 output '" + output + "' is cast back from float32 where it leaves");
            }
        }
        for (int index : nowFloat) {
            changes.add(where(nodes.get(index)) + " now runs in float32");
        }
        List<ProtoMessage> rewritten = new ArrayList<>(first);
        for (int index = 0; index < nodes.size(); index++) {
            ProtoMessage node = nodes.get(index);
            node.setStrings(
                    Onnx.NODE_INPUT,
                    node.strings(Onnx.NODE_INPUT).stream()
                            .map(n -> renamed.getOrDefault(n, n))
                            .toList());
            node.setStrings(
                    Onnx.NODE_OUTPUT,
                    node.strings(Onnx.NODE_OUTPUT).stream()
                            .map(n -> renamed.getOrDefault(n, n))
                            .toList());
            if (castsToIdentity.contains(index)) {
                changes.add(where(node) + " to float32 is now an Identity");
                node.setString(Onnx.NODE_OP_TYPE, "Identity").remove(Onnx.NODE_ATTRIBUTE);
            }
            rewritten.add(node);
        }
        rewritten.addAll(last);
        graph.setMessages(Onnx.GRAPH_NODE, rewritten);
        // the tensors on the path are float32 now: their recorded uint8 types would contradict that
        graph.setMessages(
                Onnx.GRAPH_VALUE_INFO,
                graph.messages(Onnx.GRAPH_VALUE_INFO).stream()
                        .filter(v -> !region.containsKey(v.string(Onnx.VALUE_INFO_NAME)))
                        .toList());
        model.setMessage(Onnx.MODEL_GRAPH, graph);
        return new Rewritten(model.toByteArray(), changes);
    }

    private Set<String> allNames() {
        Set<String> names = new HashSet<>();
        for (ProtoMessage node : nodes) {
            names.addAll(node.strings(Onnx.NODE_INPUT));
            names.addAll(node.strings(Onnx.NODE_OUTPUT));
            names.add(node.string(Onnx.NODE_NAME));
        }
        for (int field : new int[] {Onnx.GRAPH_INPUT, Onnx.GRAPH_OUTPUT, Onnx.GRAPH_VALUE_INFO}) {
            graph.messages(field).forEach(v -> names.add(v.string(Onnx.VALUE_INFO_NAME)));
        }
        graph.messages(Onnx.GRAPH_INITIALIZER).forEach(t -> names.add(t.string(Onnx.TENSOR_NAME)));
        return names;
    }

    private static String unique(String base, Set<String> taken) {
        String name = base;
        for (int n = 1; taken.contains(name); n++) {
            name = base + "_" + n;
        }
        taken.add(name);
        return name;
    }

    private UnsupportedModelException computes(ProtoMessage node, String uint8) {
        String input = region.get(uint8);
        String op = node.string(Onnx.NODE_OP_TYPE);
        return new UnsupportedModelException(
                where(node)
                        + " computes on uint8 tensor '"
                        + uint8
                        + "' (from input '"
                        + input
                        + "'). TensorRT takes uint8 only into a Cast, and in float32 a "
                        + op
                        + " can give other results"
                        + " than in uint8 (integer rounding, wrap-around past 255). Convert the input to float before any"
                        + " arithmetic in the export: in torch, `"
                        + input
                        + ".float()` first (moving it, e.g. `.permute`,"
                        + " before or after is fine), then the "
                        + op
                        + ".");
    }

    private static Optional<ProtoMessage> attribute(ProtoMessage node, String name) {
        return node.messages(Onnx.NODE_ATTRIBUTE).stream()
                .filter(a -> a.string(Onnx.ATTRIBUTE_NAME).equals(name))
                .findFirst();
    }

    private static String where(ProtoMessage node) {
        return "node '"
                + node.string(Onnx.NODE_NAME)
                + "' ("
                + node.string(Onnx.NODE_OP_TYPE)
                + ")";
    }
}
