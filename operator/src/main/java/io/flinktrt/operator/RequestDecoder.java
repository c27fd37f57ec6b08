package io.flinktrt.operator;

import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.Tensor;

import org.apache.avro.specific.SpecificDatumReader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Turns the bytes of a Kafka record into a {@link DecodedRequest} for a model, or says exactly
 * why not. Not thread-safe: one per task.
 */
public final class RequestDecoder {

    private final ModelSignature signature;
    private final RequestLimits limits;
    private final SpecificDatumReader<InferenceRequest> reader = new SpecificDatumReader<>(InferenceRequest.class);
    private InferenceRequest reused;

    public RequestDecoder(ModelSignature signature, RequestLimits limits) {
        this.signature = signature;
        this.limits = limits;
    }

    DecodedRequest decode(byte[] payload) throws RequestRejectedException {
        if (payload.length > limits.maxRequestBytes()) {
            throw new RequestRejectedException(ErrorCode.REQUEST_TOO_LARGE, "Request of " + payload.length
                    + " bytes is larger than the limit of " + limits.maxRequestBytes() + " bytes.");
        }
        InferenceRequest request = parse(payload);
        try {
            return new DecodedRequest(request.getId(), request.getMetadata(), inputsOf(request));
        } catch (RequestRejectedException e) {
            throw e.withRequestId(request.getId());
        }
    }

    private ByteBuffer[] inputsOf(InferenceRequest request) throws RequestRejectedException {
        List<Tensor> tensors = request.getTensors();
        if (tensors.size() > limits.maxTensors()) {
            throw new RequestRejectedException(ErrorCode.REQUEST_TOO_LARGE, "Request carries " + tensors.size()
                    + " tensors; the limit is " + limits.maxTensors() + ".");
        }
        ByteBuffer[] inputs = new ByteBuffer[signature.inputs().size()];
        for (Tensor tensor : tensors) {
            int index = signature.inputIndex(tensor.getName());
            if (index < 0) {
                throw new RequestRejectedException(ErrorCode.UNKNOWN_TENSOR, "Tensor '" + tensor.getName()
                        + "' is not an input of model " + signature.modelName() + "; its inputs are "
                        + signature.inputs() + ".");
            }
            if (inputs[index] != null) {
                throw new RequestRejectedException(ErrorCode.UNKNOWN_TENSOR,
                        "Tensor '" + tensor.getName() + "' appears twice in the request.");
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

    private InferenceRequest parse(byte[] payload) throws RequestRejectedException {
        try {
            PayloadBoundedDecoder decoder = new PayloadBoundedDecoder(payload); // Avro alone trusts claimed lengths
            reused = reader.read(reused, decoder);
            if (!decoder.isEnd()) {
                throw new RequestRejectedException(ErrorCode.UNDECODABLE,
                        "Record has bytes after the end of an InferenceRequest: it was written with another schema.");
            }
            InferenceRequest request = reused;
            reused = null; // the decoded request lives on in its batch; do not overwrite it
            return request;
        } catch (RequestRejectedException e) {
            throw e;
        } catch (Exception | OutOfMemoryError e) { // garbage can claim huge lengths; Avro throws many kinds
            reused = null;
            throw new RequestRejectedException(ErrorCode.UNDECODABLE,
                    "Record is not an Avro InferenceRequest: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private ByteBuffer check(Tensor tensor, TensorSpec spec) throws RequestRejectedException {
        if (tensor.getDtype() != spec.dtype()) {
            throw new RequestRejectedException(ErrorCode.WRONG_DTYPE, "Tensor '" + spec.name() + "' is "
                    + tensor.getDtype() + "; the model takes " + spec.dtype() + ".");
        }
        long[] shape = sampleShape(tensor.getShape(), spec);
        long max = limits.maxTensorElements();
        long elements = 1;
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) {
                throw new RequestRejectedException(ErrorCode.SHAPE_NOT_ACCEPTED,
                        "Tensor '" + spec.name() + "' has a negative dimension: " + tensor.getShape() + ".");
            }
            empty |= d == 0;
            elements = d == 0 || elements > max ? elements : (d > max / elements ? max + 1 : elements * d);
        }
        if (empty) {
            throw new RequestRejectedException(ErrorCode.EMPTY_TENSOR,
                    "Tensor '" + spec.name() + "' is empty (shape " + tensor.getShape() + ").");
        }
        if (elements > max) {
            throw new RequestRejectedException(ErrorCode.REQUEST_TOO_LARGE, "Tensor '" + spec.name()
                    + "' has more than " + max + " elements.");
        }
        if (!Arrays.equals(shape, spec.sampleShape())) {
            throw new RequestRejectedException(ErrorCode.SHAPE_NOT_ACCEPTED, "Tensor '" + spec.name()
                    + "' has shape " + tensor.getShape() + "; the model takes one sample of shape "
                    + Arrays.toString(spec.sampleShape()) + " (a leading batch dimension of 1 is allowed).");
        }
        ByteBuffer data = tensor.getData();
        if (data.remaining() != spec.sampleBytes()) {
            throw new RequestRejectedException(ErrorCode.BYTE_LENGTH_MISMATCH, "Tensor '" + spec.name() + "' has "
                    + data.remaining() + " bytes; shape " + tensor.getShape() + " of " + spec.dtype() + " needs "
                    + spec.sampleBytes() + ".");
        }
        if (limits.rejectNonFinite() && DataTypes.isFloatingPoint(spec.dtype())) {
            rejectNonFinite(data, spec);
        }
        return data;
    }

    /** Drops one leading 1: both [3,224,224] and [1,3,224,224] are one sample of a [N,3,224,224] input. */
    private static long[] sampleShape(List<Long> shape, TensorSpec spec) {
        int skip = shape.size() == spec.sampleShape().length + 1 && shape.get(0) == 1 ? 1 : 0;
        long[] dims = new long[shape.size() - skip];
        for (int i = skip; i < shape.size(); i++) {
            dims[i - skip] = shape.get(i);
        }
        return dims;
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
