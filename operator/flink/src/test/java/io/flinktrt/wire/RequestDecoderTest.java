package io.flinktrt.wire;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.schema.Timings;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

import static io.flinktrt.testing.AvroBytes.bytes;
import static io.flinktrt.testing.AvroBytes.concat;
import static io.flinktrt.testing.AvroBytes.string;
import static io.flinktrt.testing.AvroBytes.varint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestDecoderTest {

    static final ModelSignature TWO_INPUTS =
            new ModelSignature(
                    "m",
                    "sha",
                    List.of(
                            new TensorSpec("ids", DataType.INT64, new long[] {4}),
                            new TensorSpec("x", DataType.FLOAT32, new long[] {2, 3})),
                    List.of(new TensorSpec("y", DataType.FLOAT32, new long[] {1})),
                    8);
    static final RequestLimits LIMITS =
            new RequestLimits(1 << 20, 8, 1 << 16, true, 1 << 20, 1 << 20);

    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    private final RequestDecoder decoder = decoder(TWO_INPUTS, LIMITS);

    /**
     * A decoder whose results are checked against {@code limits} as those of an ONNX Runtime run.
     */
    static RequestDecoder decoder(ModelSignature signature, RequestLimits limits) {
        return new RequestDecoder(
                signature,
                limits,
                new ResultEncoder(
                        signature,
                        "onnxruntime",
                        new ServedModel(signature.modelName(), ServedModel.NO_VERSION),
                        null),
                false,
                null);
    }

    @Test
    void decodesAValidRequestIntoModelInputOrder() throws Exception {
        InferenceRequest request = new RandomRequests(TWO_INPUTS, 10, 1).next("r1");
        List<Tensor> reversed = new ArrayList<>(request.getTensors());
        Collections.reverse(reversed);
        request.setTensors(reversed);

        DecodedRequest decoded = decoder.decode(codec.encode(request));

        assertThat(decoded.id()).isEqualTo("r1");
        assertThat(decoded.inputs()[0].remaining()).isEqualTo(4 * 8);
        assertThat(decoded.inputs()[1].remaining()).isEqualTo(6 * 4);
    }

    @Test
    void readsWhatAvroWritesIncludingMultiBlockArraysAndMetadata() throws Exception {
        InferenceRequest request = new RandomRequests(TWO_INPUTS, 10, 2).next("ünïcode-id");
        request.setMetadata(Map.of("trace", "t-1", "tenant", "ä"));
        byte[] payload = codec.encode(request);

        DecodedRequest decoded = decoder.decode(payload);

        assertThat(decoded.id()).isEqualTo("ünïcode-id");
        assertThat(decoded.metadata()).isEqualTo(Map.of("trace", "t-1", "tenant", "ä"));
        for (Tensor tensor : request.getTensors()) {
            assertThat(decoded.inputs()[TWO_INPUTS.inputIndex(tensor.getName())])
                    .isEqualTo(tensor.getData());
        }
        // Avro writers may split arrays into blocks with a negative count and a byte size: build
        // one by hand
        byte[] blocked = {
            2,
            'b', // id "b"
            0, // metadata: no entries
            2, // tensors: one block of 1
            6,
            'i',
            'd',
            's',
            8 /* INT64 */,
            1 /* block of -1 dims */,
            2 /* 1 byte */,
            8 /* 4 */,
            0,
            64, // data: 32 bytes
        };
        byte[] withData =
                Arrays.copyOf(blocked, blocked.length + 32 + 1); // 32 zero bytes, end of tensors
        // parsed; only 'x' is missing
        assertThatThrownBy(() -> decoder.decode(withData))
                .isInstanceOfSatisfying(
                        RequestRejectedException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.MISSING_TENSOR));
    }

    @Test
    void acceptsASampleShapeWithOrWithoutALeadingBatchOfOne() throws Exception {
        ByteBuffer x = floats(6);
        x.putFloat(20, 7.5f);
        for (List<Long> shape : List.of(List.of(2L, 3L), List.of(1L, 2L, 3L))) {
            DecodedRequest decoded = decoder.decode(codec.encode(request(shape, x)));
            assertThat(decoded.inputs()[1])
                    .as("shape %s", shape)
                    .isEqualTo(x.duplicate().position(0));
            assertThat(
                            decoded.inputs()[1]
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .getFloat(decoded.inputs()[1].position() + 20))
                    .isEqualTo(7.5f);
        }
    }

    @Test
    void aModelOfVaryingLengthTakesSequencesUpToTheLongestAllOfOneLength() throws Exception {
        ModelSignature varying =
                new ModelSignature(
                        "m",
                        "sha",
                        List.of(
                                new TensorSpec("ids", DataType.INT64, new long[] {8}),
                                new TensorSpec("mask", DataType.INT64, new long[] {8})),
                        List.of(new TensorSpec("y", DataType.FLOAT32, new long[] {8, 2})),
                        4,
                        new ModelSignature.SequenceAxis(List.of(4, 8), Set.of("ids", "mask", "y")));
        RequestDecoder lengths = decoder(varying, LIMITS);
        DecodedRequest three = lengths.decode(codec.encode(sequences(3, 3)));
        assertThat(three.positions()).isEqualTo(3);
        assertThat(three.inputs()[0].remaining()).isEqualTo(3 * 8);
        assertThat(lengths.decode(codec.encode(sequences(8, 8))).positions()).isEqualTo(8);
        for (InferenceRequest bad : List.of(sequences(9, 9), sequences(3, 4))) {
            assertThatThrownBy(() -> lengths.decode(codec.encode(bad)))
                    .isInstanceOf(RequestRejectedException.class)
                    .extracting(e -> ((RequestRejectedException) e).code())
                    .isEqualTo(ErrorCode.SHAPE_NOT_ACCEPTED);
        }
    }

    private static InferenceRequest sequences(int ids, int mask) {
        return new InferenceRequest(
                "s",
                Map.of(),
                List.of(
                        new Tensor("ids", DataType.INT64, List.of(1L, (long) ids), longs(ids)),
                        new Tensor("mask", DataType.INT64, List.of(1L, (long) mask), longs(mask))),
                null,
                null);
    }

    private static ByteBuffer longs(int count) {
        return ByteBuffer.allocate(8 * count).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void eachKindOfBadInputGetsItsOwnCode() {
        assertRejected(new byte[] {1, 2, 3, 4, 5}, ErrorCode.UNDECODABLE);
        assertRejected(
                new AvroCodec<>(InferenceResult.class)
                        .encode(
                                InferenceResult.newBuilder()
                                        .setId("x")
                                        .setOutputs(List.of())
                                        .setModel("m")
                                        .setEngineChecksum("c")
                                        .setBackend("b")
                                        .setBatchSize(1)
                                        .setTimings(new Timings(0L, 0L, 0L))
                                        .build()),
                ErrorCode.UNDECODABLE);
        assertRejected(with(t -> t.getName().equals("x") ? null : t), ErrorCode.MISSING_TENSOR);
        assertRejected(
                withExtra(new Tensor("z", DataType.FLOAT32, List.of(1L), floats(1))),
                ErrorCode.UNKNOWN_TENSOR);
        assertRejected(
                withExtra(new Tensor("x", DataType.FLOAT32, List.of(2L, 3L), floats(6))),
                ErrorCode.UNKNOWN_TENSOR);
        assertRejected(
                with(
                        t ->
                                t.getName().equals("x")
                                        ? new Tensor(
                                                "x",
                                                DataType.FLOAT16,
                                                List.of(2L, 3L),
                                                ByteBuffer.allocate(12))
                                        : t),
                ErrorCode.WRONG_DTYPE);
        assertRejected(request(List.of(2L, 3L), floats(5)), ErrorCode.BYTE_LENGTH_MISMATCH);
        assertRejected(request(List.of(3L, 2L, 1L), floats(6)), ErrorCode.SHAPE_NOT_ACCEPTED);
        assertRejected(request(List.of(2L, 4L), floats(8)), ErrorCode.SHAPE_NOT_ACCEPTED);
        assertRejected(request(List.of(2L, -3L), floats(6)), ErrorCode.SHAPE_NOT_ACCEPTED);
        assertRejected(request(List.of(2L, 0L), floats(0)), ErrorCode.EMPTY_TENSOR);
        assertRejected(
                request(List.of(1L << 20, 1L << 20, 1L << 30), floats(6)),
                ErrorCode.REQUEST_TOO_LARGE);
        assertRejected(new byte[LIMITS.maxRequestBytes() + 1], ErrorCode.REQUEST_TOO_LARGE);
        ByteBuffer nan = floats(6);
        nan.putFloat(8, Float.NaN);
        assertRejected(request(List.of(2L, 3L), nan), ErrorCode.NON_FINITE_INPUT);
    }

    @Test
    void nonFiniteValuesPassWhenTheLimitAllowsThem() throws Exception {
        ByteBuffer inf = floats(6);
        inf.putFloat(4, Float.POSITIVE_INFINITY);
        RequestDecoder lenient =
                decoder(
                        TWO_INPUTS,
                        new RequestLimits(1 << 20, 8, 1 << 16, false, 1 << 20, 1 << 20));
        DecodedRequest decoded = lenient.decode(codec.encode(request(List.of(2L, 3L), inf)));
        ByteBuffer x = decoded.inputs()[1].order(ByteOrder.LITTLE_ENDIAN);
        assertThat(x.getFloat(x.position() + 4)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThatThrownBy(() -> decoder.decode(codec.encode(request(List.of(2L, 3L), inf))))
                .as("the same request where the limit rejects non-finite values")
                .isInstanceOfSatisfying(
                        RequestRejectedException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.NON_FINITE_INPUT));
    }

    @Test
    void aRejectionAfterDecodingNamesTheRequest() {
        assertThatThrownBy(() -> decoder.decode(codec.encode(request(List.of(2L, 3L), floats(5)))))
                .isInstanceOfSatisfying(
                        RequestRejectedException.class,
                        e -> assertThat(e.requestId()).isEqualTo("bad"));
    }

    @Test
    void aBlockCountOfLongMinValueEndsTheArrayAsForAvro() {
        // -Long.MIN_VALUE overflows: Avro's reader ends the array there and leaves the end marker
        // unread
        byte[] tensors =
                concat(string("r"), varint(0), varint(Long.MIN_VALUE), varint(3), varint(0));
        byte[] dims =
                concat(
                        string("r"),
                        varint(0),
                        varint(1),
                        string("x"),
                        varint(0),
                        varint(Long.MIN_VALUE),
                        varint(1),
                        varint(0),
                        varint(0),
                        varint(0), // the text field's null
                        varint(0), // the image field's null
                        varint(0));
        byte[] metadata =
                concat(
                        string("r"),
                        varint(Long.MIN_VALUE),
                        varint(0),
                        varint(0),
                        varint(0), // the text field's null
                        varint(0), // the image field's null
                        varint(0));
        // the unread end marker is then the text field's null, as Avro reads it: no tensors
        assertRejected(tensors, ErrorCode.MISSING_TENSOR);
        assertRejected(dims, ErrorCode.UNDECODABLE);
        assertRejected(metadata, ErrorCode.UNDECODABLE);
        // without the end marker Avro reads it: a request without tensors; in a later block it
        // refuses it
        assertRejected(
                concat(string("r"), varint(0), varint(Long.MIN_VALUE), varint(3)),
                ErrorCode.MISSING_TENSOR);
        assertRejected(
                concat(
                        string("r"),
                        varint(1),
                        string("k"),
                        string("v"),
                        varint(Long.MIN_VALUE),
                        varint(3),
                        varint(0)),
                ErrorCode.UNDECODABLE);
    }

    @Test
    void aDataTypeIsReadAsAvroReadsAnIntOfAtMostFiveBytes() throws Exception {
        byte[] tail = concat(varint(2), varint(2), varint(3), varint(0), varint(24), new byte[24]);
        byte[] ids =
                concat(
                        string("ids"),
                        varint(4 /* INT64 */),
                        varint(1),
                        varint(4),
                        varint(0),
                        varint(32),
                        new byte[32]);
        byte[] sixBytes =
                concat(
                        string("r"),
                        varint(0),
                        varint(2),
                        ids,
                        string("x"),
                        bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
                        tail,
                        varint(0));
        // bits above the int's 32 are dropped by Avro: this is FLOAT32
        byte[] fiveBytesHigh =
                concat(
                        string("r"),
                        varint(0),
                        varint(2),
                        ids,
                        string("x"),
                        bytes(0x80, 0x80, 0x80, 0x80, 0x10),
                        tail,
                        varint(0));

        assertRejected(sixBytes, ErrorCode.UNDECODABLE);
        assertThat(decoder.decode(fiveBytesHigh).id()).isEqualTo("r");
    }

    @Test
    void aLongOfTenBytesIsReadAsAvroReadsIt() throws Exception {
        // Avro keeps the lowest bit of the tenth byte and drops the others: this dimension is 4
        byte[] four = bytes(0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7E);
        byte[] ids =
                concat(
                        string("ids"),
                        varint(4),
                        varint(1),
                        four,
                        varint(0),
                        varint(32),
                        new byte[32]);
        byte[] x =
                concat(
                        string("x"),
                        varint(0),
                        varint(2),
                        varint(2),
                        varint(3),
                        varint(0),
                        varint(24),
                        new byte[24]);
        assertThat(
                        decoder.decode(concat(string("r"), varint(0), varint(2), ids, x, varint(0)))
                                .id())
                .isEqualTo("r");

        byte[] elevenBytes =
                bytes(0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
        byte[] badIds =
                concat(
                        string("ids"),
                        varint(4),
                        varint(1),
                        elevenBytes,
                        varint(0),
                        varint(32),
                        new byte[32]);
        assertRejected(
                concat(string("r"), varint(0), varint(2), badIds, x, varint(0)),
                ErrorCode.UNDECODABLE);
    }

    @Test
    void moreTensorsOrDimensionsThanAllowedKeepTheRequestId() {
        List<Tensor> tensors = new ArrayList<>(request(List.of(2L, 3L), floats(6)).getTensors());
        for (int i = 0; i < LIMITS.maxTensors(); i++) {
            tensors.add(new Tensor("extra" + i, DataType.FLOAT32, List.of(1L), floats(1)));
        }
        List<Long> seventeenDims = new ArrayList<>(Collections.nCopies(17, 1L));
        seventeenDims.set(15, 2L);
        seventeenDims.set(16, 3L);

        assertRejectedWithId(
                codec.encode(new InferenceRequest("many", Map.of(), tensors, null, null)),
                ErrorCode.REQUEST_TOO_LARGE,
                "many");
        assertRejectedWithId(
                codec.encode(request(seventeenDims, floats(6))),
                ErrorCode.SHAPE_NOT_ACCEPTED,
                "bad");
    }

    @Test
    void aRecordThatDoesNotDecodePastTheTensorLimitIsUndecodable() {
        List<Tensor> tensors = new ArrayList<>();
        for (int i = 0; i < LIMITS.maxTensors() + 1; i++) {
            tensors.add(new Tensor("t" + i, DataType.FLOAT32, List.of(1L), floats(1)));
        }
        byte[] valid = codec.encode(new InferenceRequest("many", Map.of(), tensors, null, null));
        assertRejected(Arrays.copyOf(valid, valid.length - 3), ErrorCode.UNDECODABLE);
        assertRejected(concat(valid, varint(7)), ErrorCode.UNDECODABLE);
    }

    private void assertRejectedWithId(byte[] payload, ErrorCode code, String id) {
        assertThatThrownBy(() -> decoder.decode(payload))
                .isInstanceOfSatisfying(
                        RequestRejectedException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(code);
                            assertThat(e.requestId()).isEqualTo(id);
                        });
    }

    private void assertRejected(InferenceRequest request, ErrorCode code) {
        assertRejected(codec.encode(request), code);
    }

    private void assertRejected(byte[] payload, ErrorCode code) {
        assertThatThrownBy(() -> decoder.decode(payload))
                .isInstanceOfSatisfying(
                        RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    private static InferenceRequest request(List<Long> xShape, ByteBuffer xData) {
        return new InferenceRequest(
                "bad",
                Map.of(),
                List.of(
                        new Tensor("ids", DataType.INT64, List.of(4L), ByteBuffer.allocate(32)),
                        new Tensor("x", DataType.FLOAT32, xShape, xData)),
                null,
                null);
    }

    private static InferenceRequest with(UnaryOperator<Tensor> change) {
        List<Tensor> tensors = new ArrayList<>();
        for (Tensor t : request(List.of(2L, 3L), floats(6)).getTensors()) {
            Tensor changed = change.apply(t);
            if (changed != null) {
                tensors.add(changed);
            }
        }
        return new InferenceRequest("bad", Map.of(), tensors, null, null);
    }

    private static InferenceRequest withExtra(Tensor extra) {
        InferenceRequest request = request(List.of(2L, 3L), floats(6));
        List<Tensor> tensors = new ArrayList<>(request.getTensors());
        tensors.add(extra);
        request.setTensors(tensors);
        return request;
    }

    private static ByteBuffer floats(int n) {
        return ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    }
}
