package io.flinktrt.onnx;

import io.flinktrt.testing.TestModels;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProtoMessageTest {

    @Test
    void writesTheCommittedModelsBackByteForByte() throws Exception {
        for (String name :
                List.of(
                        TestModels.MLP,
                        TestModels.TWO_IN_TWO_OUT,
                        TestModels.TOKENS,
                        TestModels.IMAGE_UINT8)) {
            byte[] model = Files.readAllBytes(TestModels.path(name));
            ProtoMessage parsed = ProtoMessage.parse(model);
            assertThat(parsed.toByteArray()).as(name).isEqualTo(model);
            ProtoMessage graph = parsed.message(Onnx.MODEL_GRAPH).orElseThrow();
            graph.setMessages(
                    Onnx.GRAPH_NODE,
                    graph.messages(Onnx.GRAPH_NODE)); // re-encoded from parsed nodes
            assertThat(parsed.setMessage(Onnx.MODEL_GRAPH, graph).toByteArray())
                    .as(name)
                    .isEqualTo(model);
        }
    }

    @Test
    void readsAndReplacesFields() {
        ProtoMessage message =
                new ProtoMessage()
                        .addString(1, "a")
                        .addVarint(2, 300)
                        .addString(1, "b")
                        .addVarint(3, -1)
                        .addMessage(4, new ProtoMessage().addString(1, "inner"));
        ProtoMessage parsed = ProtoMessage.parse(message.toByteArray());
        assertThat(parsed.strings(1)).containsExactly("a", "b");
        assertThat(parsed.varint(2, 0)).isEqualTo(300);
        assertThat(parsed.varint(3, 0)).isEqualTo(-1);
        assertThat(parsed.message(4).orElseThrow().string(1)).isEqualTo("inner");
        parsed.setStrings(1, List.of("c"));
        assertThat(ProtoMessage.parse(parsed.toByteArray()).strings(1)).containsExactly("c");
        assertThat(parsed.remove(4).message(4)).isEmpty();
    }

    @Test
    void refusesBytesThatAreNotAMessage() {
        assertThatThrownBy(() -> ProtoMessage.parse(new byte[] {0x0a, 0x7f, 0x01}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("past the end");
    }
}
