package io.flinktrt.operator;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.ErrorCode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Turns the bytes of a Kafka record into a {@link DecodedRequest} for a model, or says exactly
 * why not. Not thread-safe: one per task.
 */
public final class RequestDecoder {

    /** More dimensions than any model has (TensorRT allows 8): the request is malformed. */
    private static final int MAX_DIMENSIONS = 16;

    private final ModelSignature signature;
    private final RequestLimits limits;
    private final RequestParser parser;

    public RequestDecoder(ModelSignature signature, RequestLimits limits) {
        this.signature = signature;
        this.limits = limits;
        this.parser = new RequestParser(limits.maxTensors(), MAX_DIMENSIONS);
    }

    DecodedRequest decode(byte[] payload) throws RequestRejectedException {
        if (payload.length > limits.maxRequestBytes()) {
            throw new RequestRejectedException(ErrorCode.REQUEST_TOO_LARGE, "Request of " + payload.length
                    + " bytes is larger than the limit of " + limits.maxRequestBytes() + " bytes.");
        }
        RequestParser.ParsedRequest request = parser.parse(payload);
        try {
            return new DecodedRequest(request.id(), request.metadata(), inputsOf(request.tensors()));
        } catch (RequestRejectedException e) {
            throw e.withRequestId(request.id());
        }
    }

    private ByteBuffer[] inputsOf(List<RequestParser.ParsedTensor> tensors) throws RequestRejectedException {
        ByteBuffer[] inputs = new ByteBuffer[signature.inputs().size()];
        for (RequestParser.ParsedTensor tensor : tensors) {
            int index = signature.inputIndex(tensor.name());
            if (index < 0) {
                throw new RequestRejectedException(ErrorCode.UNKNOWN_TENSOR, "Tensor '" + tensor.name()
                        + "' is not an input of model " + signature.modelName() + "; its inputs are "
                        + signature.inputs() + ".");
            }
            if (inputs[index] != null) {
                throw new RequestRejectedException(ErrorCode.UNKNOWN_TENSOR,
                        "Tensor '" + tensor.name() + "' appears twice in the request.");
            }
            inputs[index] = check(tensor, signature.inputs().get(index));
        }
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) {
                throw new RequestRejectedException(ErrorCode.MISSING_TENSOR, "Input '"
                        + signature.inputs().get(i).name() + "' of model " + signature.modelName()
                        + " is missing from the request.");
            }
        }
        return inputs;
    }

    private ByteBuffer check(RequestParser.ParsedTensor tensor, TensorSpec spec) throws RequestRejectedException {
        if (tensor.dtype() != spec.dtype()) {
            throw new RequestRejectedException(ErrorCode.WRONG_DTYPE, "Tensor '" + spec.name() + "' is "
                    + tensor.dtype() + "; the model takes " + spec.dtype() + ".");
        }
        long[] shape = sampleShape(tensor.shape(), spec);
        long max = limits.maxTensorElements();
        long elements = 1;
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) {
                throw new RequestRejectedException(ErrorCode.SHAPE_NOT_ACCEPTED,
                        "Tensor '" + spec.name() + "' has a negative dimension: " + Arrays.toString(tensor.shape()) + ".");
            }
            empty |= d == 0;
            elements = d == 0 || elements > max ? elements : (d > max / elements ? max + 1 : elements * d);
        }
        if (empty) {
            throw new RequestRejectedException(ErrorCode.EMPTY_TENSOR,
                    "Tensor '" + spec.name() + "' is empty (shape " + Arrays.toString(tensor.shape()) + ").");
        }
        if (elements > max) {
            throw new RequestRejectedException(ErrorCode.REQUEST_TOO_LARGE, "Tensor '" + spec.name()
                    + "' has more than " + max + " elements.");
        }
        if (!Arrays.equals(shape, spec.sampleShape())) {
            throw new RequestRejectedException(ErrorCode.SHAPE_NOT_ACCEPTED, "Tensor '" + spec.name()
                    + "' has shape " + Arrays.toString(tensor.shape()) + "; the model takes one sample of shape "
                    + Arrays.toString(spec.sampleShape()) + " (a leading batch dimension of 1 is allowed).");
        }
        ByteBuffer data = tensor.data();
        if (data.remaining() != spec.sampleBytes()) {
            throw new RequestRejectedException(ErrorCode.BYTE_LENGTH_MISMATCH, "Tensor '" + spec.name() + "' has "
                    + data.remaining() + " bytes; shape " + Arrays.toString(tensor.shape()) + " of " + spec.dtype() + " needs "
                    + spec.sampleBytes() + ".");
        }
        if (limits.rejectNonFinite() && DataTypes.isFloatingPoint(spec.dtype())) {
            rejectNonFinite(data, spec);
        }
        return data;
    }

    /** Drops one leading 1: both [3,224,224] and [1,3,224,224] are one sample of a [N,3,224,224] input. */
    private static long[] sampleShape(long[] shape, TensorSpec spec) {
        boolean batchOfOne = shape.length == spec.sampleShape().length + 1 && shape[0] == 1;
        return batchOfOne ? Arrays.copyOfRange(shape, 1, shape.length) : shape;
    }

    private static void rejectNonFinite(ByteBuffer data, TensorSpec spec) throws RequestRejectedException {
        ByteBuffer le = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int start = le.position();
        int size = DataTypes.byteSize(spec.dtype());
        for (int offset = start; offset < le.limit(); offset += size) {
            boolean finite = switch (spec.dtype()) {
                case FLOAT32 -> Float.isFinite(le.getFloat(offset));
                case FLOAT16 -> (le.getShort(offset) & 0x7C00) != 0x7C00;
                case BFLOAT16 -> (le.getShort(offset) & 0x7F80) != 0x7F80;
                default -> true;
            };
            if (!finite) {
                throw new RequestRejectedException(ErrorCode.NON_FINITE_INPUT, "Tensor '" + spec.name()
                        + "' holds NaN or Inf at element " + (offset - start) / size
                        + "; set inference.reject-non-finite to false to let such values through.");
            }
        }
    }
}
