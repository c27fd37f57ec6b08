package io.flinktrt.onnx;

import org.apache.flink.annotation.Internal;

/** A model TensorRT cannot build as it is; the message says what to change in its export. */
@Internal
public final class UnsupportedModelException extends Exception {

    public UnsupportedModelException(String message) {
        super(message);
    }
}
