package io.flinktrt.wire;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.ModelSignature.SequenceAxis;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.image.ImageDecoder;
import io.flinktrt.image.PendingImage;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.text.PendingText;
import io.flinktrt.text.TextTokenizer;

import org.apache.flink.annotation.Internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Turns the bytes of a Kafka record into a {@link DecodedRequest} for a model, or says exactly why
 * not. Not thread-safe: one per task.
 */
@Internal
public final class RequestDecoder {

    /** More dimensions than any model has (TensorRT allows 8): the request is malformed. */
    private static final int MAX_DIMENSIONS = 16;

    private final ModelSignature signature;
    private final RequestLimits limits;
    private final RequestParser parser;
    private final ResultEncoder results;
    private final boolean takesText;
    private final ImageDecoder images;

    /**
     * {@code results} predicts each request's result size, checked against the limit before it
     * runs; {@code takesText}: the job has a tokenizer, and a request may carry text instead of
     * tensors; {@code images}: the model's image input, null where it has none.
     */
    RequestDecoder(
            ModelSignature signature,
            RequestLimits limits,
            ResultEncoder results,
            boolean takesText,
            ImageDecoder images) {
        this.signature = signature;
        this.limits = limits;
        this.parser = new RequestParser(limits.maxTensors(), MAX_DIMENSIONS);
        this.results = results;
        this.takesText = takesText;
        this.images = images;
    }

    DecodedRequest decode(byte[] payload) throws RequestRejectedException {
        if (payload.length > limits.maxRequestBytes()) {
            throw new RequestRejectedException(
                    ErrorCode.REQUEST_TOO_LARGE,
                    "Request of "
                            + payload.length
                            + " bytes is larger than the limit of "
                            + limits.maxRequestBytes()
                            + " bytes.");
        }
        RequestParser.ParsedRequest request = parser.parse(payload);
        try {
            // what is wrong with the request itself first; then whether its result could fit
            if (request.image() != null) {
                PendingImage image = imageOf(request);
                checkResultFits(request);
                return new DecodedRequest(request.id(), request.metadata(), null, null, image, 0);
            }
            if (request.text() != null || (takesText && request.tensors().isEmpty())) {
                PendingText text = textOf(request);
                checkResultFits(request);
                return new DecodedRequest(request.id(), request.metadata(), null, text, null, 0);
            }
            ByteBuffer[] inputs = inputsOf(request.tensors());
            int positions = positions(inputs);
            checkResultFits(request);
            return new DecodedRequest(
                    request.id(), request.metadata(), inputs, null, null, positions);
        } catch (RequestRejectedException e) {
            throw e.withRequestId(request.id());
        }
    }

    /**
     * A result carries the request's id and metadata: one that the sink cannot take is refused
     * before it runs.
     */
    private void checkResultFits(RequestParser.ParsedRequest request)
            throws RequestRejectedException {
        long resultBytes = results.maxEncodedBytes(request.id(), request.metadata());
        if (resultBytes > limits.maxResultBytes()) {
            throw new RequestRejectedException(
                    ErrorCode.RESULT_TOO_LARGE,
                    "The result would take up to "
                            + resultBytes
                            + " bytes (the request's id and metadata are copied into it), more than the "
                            + limits.maxResultBytes()
                            + " bytes the output topic takes; shorten the id or metadata, or raise the topic's max.message.bytes.");
        }
    }

    /** The request's text, checked: tokenized later, on a copy thread, as its row is written. */
    private PendingText textOf(RequestParser.ParsedRequest request)
            throws RequestRejectedException {
        if (!takesText) {
            throw new RequestRejectedException(
                    ErrorCode.MISSING_TENSOR,
                    "The request carries text, but this job has no tokenizer (inference.tokenizer):"
                            + " it takes the model's inputs as tensors.");
        }
        if (request.text() == null) {
            TextTokenizer.checkNotBlank(null);
        }
        if (!request.tensors().isEmpty()) {
            throw new RequestRejectedException(
                    ErrorCode.UNKNOWN_TENSOR,
                    "The request carries both text and tensors; send one or the other.");
        }
        return new PendingText(TextTokenizer.decode(request.text()));
    }

    /**
     * The request's image, checked to be the whole request: decoded later, on a copy thread, as its
     * row is written.
     */
    private PendingImage imageOf(RequestParser.ParsedRequest request)
            throws RequestRejectedException {
        if (images == null || signature.inputs().size() != 1) {
            throw new RequestRejectedException(
                    ErrorCode.MISSING_TENSOR,
                    "The request carries an image, but model "
                            + signature.modelName()
                            + " takes more than an image (inputs "
                            + signature.inputs()
                            + "; inference.image-input names the image's): send tensors.");
        }
        if (!request.tensors().isEmpty() || request.text() != null) {
            throw new RequestRejectedException(
                    ErrorCode.UNKNOWN_TENSOR,
                    "The request carries an image and tensors or text; send one of them.");
        }
        return new PendingImage(request.image());
    }

    private ByteBuffer[] inputsOf(List<RequestParser.ParsedTensor> tensors)
            throws RequestRejectedException {
        ByteBuffer[] inputs = new ByteBuffer[signature.inputs().size()];
        for (RequestParser.ParsedTensor tensor : tensors) {
            int index = signature.inputIndex(tensor.name());
            if (index < 0) {
                throw new RequestRejectedException(
                        ErrorCode.UNKNOWN_TENSOR,
                        "Tensor '"
                                + tensor.name()
                                + "' is not an input of model "
                                + signature.modelName()
                                + "; its inputs are "
                                + signature.inputs()
                                + ".");
            }
            if (inputs[index] != null) {
                throw new RequestRejectedException(
                        ErrorCode.UNKNOWN_TENSOR,
                        "Tensor '" + tensor.name() + "' appears twice in the request.");
            }
            inputs[index] = check(tensor, signature.inputs().get(index));
        }
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) {
                throw new RequestRejectedException(
                        ErrorCode.MISSING_TENSOR,
                        "Input '"
                                + signature.inputs().get(i).name()
                                + "' of model "
                                + signature.modelName()
                                + " is missing from the request.");
            }
        }
        return inputs;
    }

    /**
     * The length of a tensor request's sequence inputs, which must agree; 0 for a model whose
     * length is fixed.
     */
    private int positions(ByteBuffer[] inputs) throws RequestRejectedException {
        SequenceAxis sequence = signature.sequence();
        int positions = 0;
        for (int i = 0; i < inputs.length; i++) {
            TensorSpec spec = signature.inputs().get(i);
            if (!sequence.varies() || !sequence.has(spec)) {
                continue;
            }
            int length = inputs[i].remaining() / sequence.rowBytes(spec, 1);
            if (positions != 0 && length != positions) {
                throw new RequestRejectedException(
                        ErrorCode.SHAPE_NOT_ACCEPTED,
                        "The request's sequence inputs differ in length ("
                                + spec.name()
                                + " has "
                                + length
                                + " positions, an earlier one "
                                + positions
                                + ").");
            }
            positions = length;
        }
        return positions;
    }

    /**
     * The sample shape a tensor must have: the input's, or for an input whose sequence length
     * varies, that shape with any length from 1 to the longest.
     */
    private long[] accepted(long[] shape, TensorSpec spec) {
        long[] expected = spec.sampleShape();
        SequenceAxis sequence = signature.sequence();
        if (sequence.varies()
                && sequence.has(spec)
                && shape.length == expected.length
                && shape[0] >= 1
                && shape[0] <= expected[0]) {
            long[] own = expected.clone();
            own[0] = shape[0];
            return own;
        }
        return expected;
    }

    private ByteBuffer check(RequestParser.ParsedTensor tensor, TensorSpec spec)
            throws RequestRejectedException {
        if (tensor.dtype() != spec.dtype()) {
            throw new RequestRejectedException(
                    ErrorCode.WRONG_DTYPE,
                    "Tensor '"
                            + spec.name()
                            + "' is "
                            + tensor.dtype()
                            + "; the model takes "
                            + spec.dtype()
                            + ".");
        }
        long[] shape = sampleShape(tensor.shape(), spec);
        long max = limits.maxTensorElements();
        long elements = 1;
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) {
                throw new RequestRejectedException(
                        ErrorCode.SHAPE_NOT_ACCEPTED,
                        "Tensor '"
                                + spec.name()
                                + "' has a negative dimension: "
                                + Arrays.toString(tensor.shape())
                                + ".");
            }
            empty |= d == 0;
            elements =
                    d == 0 || elements > max
                            ? elements
                            : (d > max / elements ? max + 1 : elements * d);
        }
        if (empty) {
            throw new RequestRejectedException(
                    ErrorCode.EMPTY_TENSOR,
                    "Tensor '"
                            + spec.name()
                            + "' is empty (shape "
                            + Arrays.toString(tensor.shape())
                            + ").");
        }
        if (elements > max) {
            throw new RequestRejectedException(
                    ErrorCode.REQUEST_TOO_LARGE,
                    "Tensor '" + spec.name() + "' has more than " + max + " elements.");
        }
        long[] accepted = accepted(shape, spec);
        if (!Arrays.equals(shape, accepted)) {
            throw new RequestRejectedException(
                    ErrorCode.SHAPE_NOT_ACCEPTED,
                    "Tensor '"
                            + spec.name()
                            + "' has shape "
                            + Arrays.toString(tensor.shape())
                            + "; the model takes one sample of shape "
                            + Arrays.toString(spec.sampleShape())
                            + (signature.sequence().varies() && signature.sequence().has(spec)
                                    ? " or shorter in its first dimension (the sequence)"
                                    : "")
                            + " (a leading batch dimension of 1 is allowed).");
        }
        ByteBuffer data = tensor.data();
        long bytes =
                Arrays.equals(accepted, spec.sampleShape())
                        ? spec.sampleBytes()
                        : signature.sequence().rowBytes(spec, (int) accepted[0]);
        if (data.remaining() != bytes) {
            throw new RequestRejectedException(
                    ErrorCode.BYTE_LENGTH_MISMATCH,
                    "Tensor '"
                            + spec.name()
                            + "' has "
                            + data.remaining()
                            + " bytes; shape "
                            + Arrays.toString(tensor.shape())
                            + " of "
                            + spec.dtype()
                            + " needs "
                            + bytes
                            + ".");
        }
        if (limits.rejectNonFinite() && DataTypes.isFloatingPoint(spec.dtype())) {
            rejectNonFinite(data, spec);
        }
        return data;
    }

    /**
     * Drops one leading 1: both [3,224,224] and [1,3,224,224] are one sample of a [N,3,224,224]
     * input.
     */
    private static long[] sampleShape(long[] shape, TensorSpec spec) {
        boolean batchOfOne = shape.length == spec.sampleShape().length + 1 && shape[0] == 1;
        return batchOfOne ? Arrays.copyOfRange(shape, 1, shape.length) : shape;
    }

    /**
     * NaN and Inf are the values whose exponent bits are all ones. A ResNet input is 150,528
     * floats, so the scan looks at 8 bytes at a time and finds whether any element's exponent is
     * all ones with the "has a zero lane" bit trick; only then does it look for the element.
     */
    private static void rejectNonFinite(ByteBuffer data, TensorSpec spec)
            throws RequestRejectedException {
        ByteBuffer le = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int size = DataTypes.byteSize(spec.dtype());
        long exponent =
                switch (spec.dtype()) {
                    case FLOAT32 -> 0x7F800000_7F800000L;
                    case FLOAT16 -> 0x7C00_7C00_7C00_7C00L;
                    default -> 0x7F80_7F80_7F80_7F80L; // BFLOAT16
                };
        long lowBits = size == 4 ? 0x00000001_00000001L : 0x0001_0001_0001_0001L;
        long highBits = size == 4 ? 0x80000000_80000000L : 0x8000_8000_8000_8000L;
        int start = le.position();
        int offset = start;
        for (; offset + 8 <= le.limit(); offset += 8) {
            long y =
                    (le.getLong(offset) & exponent)
                            ^ exponent; // a lane is zero where the exponent is all ones
            if (((y - lowBits) & ~y & highBits) != 0) {
                break;
            }
        }
        int elementExponent = size == 4 ? (int) exponent : (int) exponent & 0xFFFF;
        for (; offset < le.limit(); offset += size) {
            int bits =
                    size == 4
                            ? le.getInt(offset)
                            : le.getShort(offset) & 0xFFFF; // not sign-extended into the mask
            if ((bits & elementExponent) == elementExponent) {
                throw new RequestRejectedException(
                        ErrorCode.NON_FINITE_INPUT,
                        "Tensor '"
                                + spec.name()
                                + "' holds NaN or Inf at element "
                                + (offset - start) / size
                                + "; set inference.reject-non-finite to false to let such values through.");
            }
        }
    }
}
