package io.flinktrt.operator;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.Tensor;
import io.flinktrt.schema.Timings;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Cuts a finished batch's output buffers into one result per request. */
final class ResultEncoder {

    private final ModelSignature signature;
    private final String backend;
    private final List<List<Long>> outputShapes = new ArrayList<>();

    ResultEncoder(ModelSignature signature, String backend) {
        this.signature = signature;
        this.backend = backend;
        for (TensorSpec spec : signature.outputs()) {
            outputShapes.add(Arrays.stream(spec.batchShape(1)).boxed().toList());
        }
    }

    InferenceOutcome encode(PendingRequest pending, int row, BatchBuffers buffers, BatchRun run,
                            long batchStartNanos, long nowNanos) {
        List<Tensor> outputs = new ArrayList<>(signature.outputs().size());
        for (int i = 0; i < signature.outputs().size(); i++) {
            TensorSpec spec = signature.outputs().get(i);
            int bytes = spec.sampleBytes();
            byte[] sample = new byte[bytes]; // outlives the buffers, which the next batch reuses
            buffers.output(i).get(row * bytes, sample);
            outputs.add(new Tensor(spec.name(), spec.dtype(), outputShapes.get(i), ByteBuffer.wrap(sample)));
        }
        DecodedRequest request = pending.request();
        return new InferenceOutcome(InferenceResult.newBuilder()
                .setId(request.id())
                .setMetadata(request.metadata())
                .setOutputs(outputs)
                .setModel(signature.modelName())
                .setEngineChecksum(signature.checksum())
                .setBackend(backend)
                .setBatchSize(run.rows())
                .setTimings(new Timings(
                        micros(batchStartNanos - pending.arrivalNanos()),
                        micros(run.computeNanos()),
                        micros(nowNanos - pending.arrivalNanos())))
                .build());
    }

    private static long micros(long nanos) {
        return nanos / 1000;
    }
}
