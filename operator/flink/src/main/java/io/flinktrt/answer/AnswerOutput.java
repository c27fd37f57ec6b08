package io.flinktrt.answer;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import org.apache.flink.annotation.Internal;

/** The model output an answer (embedding or labels) is made from. */
@Internal
public final class AnswerOutput {

    private AnswerOutput() {}

    /**
     * The index of output {@code name} (null: the model's first), checked to be float32.
     *
     * @throws IllegalArgumentException where the model has no such output or it is not float32
     */
    public static int index(ModelSignature signature, String name) {
        int output = 0;
        if (name != null) {
            output = -1;
            for (int i = 0; i < signature.outputs().size(); i++) {
                if (signature.outputs().get(i).name().equals(name)) {
                    output = i;
                }
            }
            if (output < 0) {
                throw new IllegalArgumentException(
                        "inference.answer-output names '"
                                + name
                                + "', which is not an output of the model: "
                                + signature.outputs());
            }
        }
        TensorSpec spec = signature.outputs().get(output);
        if (spec.dtype() != DataType.FLOAT32) {
            throw new IllegalArgumentException(
                    "An answer is made from a float32 output; " + spec + " is not.");
        }
        return output;
    }
}
