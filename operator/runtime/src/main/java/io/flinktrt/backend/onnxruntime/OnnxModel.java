package io.flinktrt.backend.onnxruntime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.DataType;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** A loaded ONNX model: the session shared by the slots, and what it takes and gives. */
final class OnnxModel implements AutoCloseable {

    final OrtSession session;
    final String name;
    final String checksum;
    final List<TensorSpec> inputs;
    final List<TensorSpec> outputs;

    /** The model's fixed batch dimension, or 0 when it is dynamic. */
    final int fixedBatch;

    private OnnxModel(
            OrtSession session,
            Path path,
            String checksum,
            List<TensorSpec> inputs,
            List<TensorSpec> outputs,
            int fixedBatch) {
        this.session = session;
        this.name = ModelFiles.modelName(path);
        this.checksum = checksum;
        this.inputs = inputs;
        this.outputs = outputs;
        this.fixedBatch = fixedBatch;
    }

    static OnnxModel load(Path path, int intraOpThreads) throws BackendException {
        OrtSession session = null;
        OrtEnvironment environment = OrtTempDirectory.environment();
        try (OrtSession.SessionOptions options =
                OnnxRuntimeBackend.sessionOptions(intraOpThreads)) {
            String checksum = ModelFiles.sha256(path);
            session = environment.createSession(path.toString(), options);
            List<TensorSpec> inputs = specs(session.getInputInfo(), "input");
            List<TensorSpec> outputs = specs(session.getOutputInfo(), "output");
            int fixedBatch = fixedBatch(session.getInputInfo());
            return new OnnxModel(session, path, checksum, inputs, outputs, fixedBatch);
        } catch (OrtException | IOException e) {
            if (session != null) {
                OnnxRuntimeBackend.closeQuietly(session);
            }
            throw new BackendException(
                    "ONNX Runtime could not load " + path + ": " + e.getMessage(), e);
        } catch (BackendException e) {
            OnnxRuntimeBackend.closeQuietly(session);
            throw e;
        }
    }

    private static List<TensorSpec> specs(Map<String, NodeInfo> infos, String role)
            throws BackendException {
        List<TensorSpec> specs = new ArrayList<>();
        for (NodeInfo node : infos.values()) {
            if (!(node.getInfo() instanceof TensorInfo info)) {
                throw new BackendException(
                        "Model "
                                + role
                                + " "
                                + node.getName()
                                + " is not a tensor ("
                                + node.getInfo()
                                + "); only tensor inputs and outputs are supported.");
            }
            long[] shape = info.getShape();
            if (shape.length == 0) {
                throw new BackendException(
                        "Model "
                                + role
                                + " "
                                + node.getName()
                                + " is a scalar; the first dimension of every input and output must be the batch.");
            }
            long[] sample = Arrays.copyOfRange(shape, 1, shape.length);
            for (int d = 0; d < sample.length; d++) {
                if (sample[d] <= 0 && d == 0) {
                    sample[d] = -1; // a sequence axis: its lengths come from the configuration
                } else if (sample[d] <= 0) {
                    throw new BackendException(
                            "Model "
                                    + role
                                    + " "
                                    + node.getName()
                                    + " has a dynamic dimension "
                                    + (d + 1)
                                    + " ("
                                    + Arrays.toString(shape)
                                    + "); only the batch and the sequence (the dimension after"
                                    + " the batch) may vary. Export the model with fixed sample"
                                    + " dimensions past those.");
                }
            }
            specs.add(new TensorSpec(node.getName(), dataType(info.type, node.getName()), sample));
        }
        return specs;
    }

    private static int fixedBatch(Map<String, NodeInfo> inputs) {
        long batch = ((TensorInfo) inputs.values().iterator().next().getInfo()).getShape()[0];
        return batch > 0 ? (int) batch : 0;
    }

    static DataType dataType(OnnxJavaType type, String tensor) throws BackendException {
        return switch (type) {
            case FLOAT -> DataType.FLOAT32;
            case FLOAT16 -> DataType.FLOAT16;
            case BFLOAT16 -> DataType.BFLOAT16;
            case INT32 -> DataType.INT32;
            case INT64 -> DataType.INT64;
            case INT8 -> DataType.INT8;
            case UINT8 -> DataType.UINT8;
            case BOOL -> DataType.BOOL;
            default ->
                    throw new BackendException(
                            "Tensor "
                                    + tensor
                                    + " has type "
                                    + type
                                    + ", which the wire format does not carry.");
        };
    }

    static OnnxJavaType javaType(DataType type) {
        return switch (type) {
            case FLOAT32 -> OnnxJavaType.FLOAT;
            case FLOAT16 -> OnnxJavaType.FLOAT16;
            case BFLOAT16 -> OnnxJavaType.BFLOAT16;
            case INT32 -> OnnxJavaType.INT32;
            case INT64 -> OnnxJavaType.INT64;
            case INT8 -> OnnxJavaType.INT8;
            case UINT8 -> OnnxJavaType.UINT8;
            case BOOL -> OnnxJavaType.BOOL;
        };
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
