package io.flinktrt.wire;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.schema.Timings;
import io.flinktrt.text.TextAnswers;
import io.flinktrt.text.TextTokenizer;
import io.flinktrt.text.TokenizedText;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Cuts a finished batch's output buffers into one result per request. */
final class ResultEncoder {

    /**
     * Most bytes of a batch size (an int) and of the three timings (longs) beyond the one each
     * takes at 0.
     */
    private static final int NUMBERS_SLACK = 4 + 3 * 9;

    private final ModelSignature signature;
    private final String backend;
    private final ServedModel served;
    private final List<List<Long>> outputShapes = new ArrayList<>();

    /** The answer results carry instead of raw outputs; null: raw outputs. */
    private final TextAnswers answers;

    /** Encoded bytes of a result but for its id and metadata, with its numbers at their largest. */
    private final long fixedBytes;

    ResultEncoder(
            ModelSignature signature, String backend, ServedModel served, TextAnswers answers) {
        this.signature = signature;
        this.backend = backend;
        this.served = served;
        this.answers = answers;
        List<Tensor> outputs = new ArrayList<>();
        for (TensorSpec spec : signature.outputs()) {
            outputShapes.add(Arrays.stream(spec.batchShape(1)).boxed().toList());
            outputs.add(
                    new Tensor(
                            spec.name(),
                            spec.dtype(),
                            outputShapes.get(outputShapes.size() - 1),
                            ByteBuffer.allocate(spec.sampleBytes())));
        }
        InferenceResult empty = result("", Map.of(), outputs, 0, new Timings(0L, 0L, 0L));
        this.fixedBytes =
                new AvroCodec<>(InferenceResult.class).encode(empty).length
                        - AvroSizes.ofString("")
                        - AvroSizes.ofStringMap(Map.of())
                        + NUMBERS_SLACK
                        + (answers == null ? 0 : answers.maxEncodedBytes());
    }

    /** At least the encoded size of the result of a request with this id and metadata. */
    long maxEncodedBytes(String id, Map<String, String> metadata) {
        return fixedBytes + AvroSizes.ofString(id) + AvroSizes.ofStringMap(metadata);
    }

    InferenceOutcome encode(
            PendingRequest pending,
            int row,
            BatchBuffers buffers,
            BatchRun run,
            long batchStartNanos,
            long nowNanos) {
        DecodedRequest request = pending.request();
        TokenizedText tokens = request.text() == null ? null : request.text().tokensIfDone();
        List<Tensor> outputs =
                answers == null ? rawOutputs(buffers, row, positions(request, tokens)) : List.of();
        InferenceResult result =
                result(
                        request.id(),
                        request.metadata(),
                        outputs,
                        run.rows(),
                        new Timings(
                                micros(batchStartNanos - pending.arrivalNanos()),
                                micros(run.computeNanos()),
                                micros(nowNanos - pending.arrivalNanos())));
        if (answers != null) {
            TextAnswers.Answer answer =
                    answers.answer(buffers, row, attentionMask(request, tokens));
            result.setEmbedding(answer.embedding() == null ? null : floats(answer.embedding()));
            result.setLabels(answer.labels() == null ? List.of() : answer.labels());
        }
        result.setTruncated(tokens != null && tokens.truncated());
        return new InferenceOutcome(result);
    }

    /**
     * The positions a request's outputs on the sequence axis have: its tokens, or the length of its
     * tensors; 0 for a model whose length is fixed.
     */
    private int positions(DecodedRequest request, TokenizedText tokens) {
        if (!signature.sequence().varies()) {
            return 0;
        }
        if (tokens != null) {
            return tokens.ids().length;
        }
        return request.positions() > 0 ? request.positions() : signature.sequence().longest();
    }

    /**
     * The row's outputs; those on the sequence axis cut to the request's {@code positions}: the
     * rest of the row is padding, computed for another length or not at all.
     */
    private List<Tensor> rawOutputs(BatchBuffers buffers, int row, int positions) {
        List<Tensor> outputs = new ArrayList<>(signature.outputs().size());
        for (int i = 0; i < signature.outputs().size(); i++) {
            TensorSpec spec = signature.outputs().get(i);
            int bytes = spec.sampleBytes();
            boolean cut = positions > 0 && signature.sequence().has(spec);
            byte[] sample = new byte[cut ? signature.sequence().rowBytes(spec, positions) : bytes];
            // a copy: it outlives the buffers, which the next batch reuses
            buffers.output(i).get(row * bytes, sample);
            List<Long> shape = outputShapes.get(i);
            if (cut) {
                shape = new ArrayList<>(shape);
                shape.set(1, (long) positions);
            }
            outputs.add(new Tensor(spec.name(), spec.dtype(), shape, ByteBuffer.wrap(sample)));
        }
        return outputs;
    }

    /**
     * The tokens mean pooling takes: the tokenizer's mask for text, the request's attention_mask
     * for tensors (null where the model has none: every position).
     */
    private long[] attentionMask(DecodedRequest request, TokenizedText tokens) {
        if (tokens != null) {
            return tokens.attentionMask();
        }
        int index = signature.inputIndex(TextTokenizer.ATTENTION_MASK);
        if (index < 0 || request.inputs() == null) {
            return null;
        }
        TensorSpec spec = signature.inputs().get(index);
        ByteBuffer data = request.inputs()[index].duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long[] mask = new long[(int) spec.sampleElements()]; // past a shorter request's: 0
        int given = data.remaining() / DataTypes.byteSize(spec.dtype());
        for (int t = 0; t < given; t++) {
            mask[t] =
                    spec.dtype() == DataType.INT64
                            ? data.getLong(data.position() + 8 * t)
                            : data.getInt(data.position() + 4 * t);
        }
        return mask;
    }

    private static List<Float> floats(float[] values) {
        List<Float> list = new ArrayList<>(values.length);
        for (float v : values) {
            list.add(v);
        }
        return list;
    }

    private InferenceResult result(
            String id,
            Map<String, String> metadata,
            List<Tensor> outputs,
            int batchSize,
            Timings timings) {
        return InferenceResult.newBuilder()
                .setId(id)
                .setMetadata(metadata)
                .setOutputs(outputs)
                .setModel(served.name())
                .setModelVersion(served.versioned() ? served.version() : null)
                .setEngineChecksum(signature.checksum())
                .setBackend(backend)
                .setBatchSize(batchSize)
                .setTimings(timings)
                .build();
    }

    private static long micros(long nanos) {
        return nanos / 1000;
    }
}
