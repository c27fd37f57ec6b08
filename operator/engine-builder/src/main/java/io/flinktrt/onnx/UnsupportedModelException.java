package io.flinktrt.onnx;

/** A model TensorRT cannot build as it is; the message says what to change in its export. */
public final class UnsupportedModelException extends Exception {

    public UnsupportedModelException(String message) {
        super(message);
    }
}
