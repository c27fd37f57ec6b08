package io.flinktrt.jobs.kafka;

import io.flinktrt.schema.DataType;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;
import io.flinktrt.wire.AvroCodec;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Requests broken in each way the operator must survive, with the code each must get. */
public final class BadRequests {

    /** A broken record and the dead-letter code it must end with. */
    public record Bad(String id, byte[] payload, ErrorCode expected) {}

    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

    /** Each kind once, built from a valid request {@code good}; ids are {@code prefix-<kind>}. */
    public List<Bad> allKinds(InferenceRequest good, String prefix) {
        List<Bad> bad = new ArrayList<>();
        bad.add(
                new Bad(
                        prefix + "-undecodable",
                        "not avro at all".getBytes(StandardCharsets.UTF_8),
                        ErrorCode.UNDECODABLE));
        bad.add(changed(good, prefix + "-missing", ErrorCode.MISSING_TENSOR, t -> null));
        bad.add(
                changed(
                        good,
                        prefix + "-unknown",
                        ErrorCode.UNKNOWN_TENSOR,
                        t -> new Tensor("no_such_input", t.getDtype(), t.getShape(), t.getData())));
        bad.add(
                changed(
                        good,
                        prefix + "-dtype",
                        ErrorCode.WRONG_DTYPE,
                        t ->
                                new Tensor(
                                        t.getName(),
                                        t.getDtype() == DataType.INT32
                                                ? DataType.INT64
                                                : DataType.INT32,
                                        t.getShape(),
                                        t.getData())));
        bad.add(
                changed(
                        good,
                        prefix + "-bytes",
                        ErrorCode.BYTE_LENGTH_MISMATCH,
                        t ->
                                new Tensor(
                                        t.getName(),
                                        t.getDtype(),
                                        t.getShape(),
                                        ByteBuffer.wrap(new byte[t.getData().remaining() - 1]))));
        bad.add(
                changed(
                        good,
                        prefix + "-shape",
                        ErrorCode.SHAPE_NOT_ACCEPTED,
                        t ->
                                new Tensor(
                                        t.getName(),
                                        t.getDtype(),
                                        withExtraDim(t.getShape()),
                                        t.getData())));
        bad.add(
                changed(
                        good,
                        prefix + "-empty",
                        ErrorCode.EMPTY_TENSOR,
                        t ->
                                new Tensor(
                                        t.getName(),
                                        t.getDtype(),
                                        List.of(0L),
                                        ByteBuffer.allocate(0))));
        return bad;
    }

    /**
     * {@code n} bad requests, one kind after another: for demos. Ids are {@code prefix-<i>-<kind>}.
     */
    public List<Bad> some(InferenceRequest good, String prefix, int n) {
        List<Bad> picked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<Bad> kinds = allKinds(good, prefix + "-" + i);
            picked.add(kinds.get(i % kinds.size()));
        }
        return picked;
    }

    private Bad changed(
            InferenceRequest good, String id, ErrorCode code, UnaryOperator<Tensor> changeFirst) {
        List<Tensor> tensors = new ArrayList<>(good.getTensors());
        Tensor changed = changeFirst.apply(tensors.get(0));
        if (changed == null) {
            tensors.remove(0);
        } else {
            tensors.set(0, changed);
        }
        return new Bad(
                id, codec.encode(new InferenceRequest(id, Map.of(), tensors, null, null)), code);
    }

    private static List<Long> withExtraDim(List<Long> shape) {
        List<Long> longer = new ArrayList<>(shape);
        longer.add(1, 2L);
        return longer;
    }
}
