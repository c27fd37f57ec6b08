package io.flinktrt.operator;

import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.testing.GatedBackend;
import io.flinktrt.wire.AvroCodec;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;

/**
 * Writes this build's snapshot of the inference operator with records in flight (2 batches held by
 * the backend, 2 records waiting) for {@link ReleaseSnapshotsTest}; run at a release, its output
 * committed to src/test/resources/release-snapshots (command in docs/operations.md).
 */
public final class ReleaseSnapshotWriter {

    private ReleaseSnapshotWriter() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ReleaseSnapshotWriter FILE");
            System.exit(2);
        }
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        GatedBackend.reset();
        GatedBackend.closeGate();
        try (var harness = ReleaseSnapshotsTest.harness(GatedBackend.NAME)) {
            harness.open();
            for (InferenceRequest request : ReleaseSnapshotsTest.requests()) {
                harness.processElement(new StreamRecord<>(RequestRecord.of(codec.encode(request))));
            }
            GatedBackend.awaitBatchesStarted(2);
            OperatorSubtaskState snapshot = harness.snapshot(1, 1);
            if (!harness.extractOutputValues().isEmpty()) {
                throw new IllegalStateException("records left the operator before the snapshot");
            }
            OperatorSnapshotUtil.writeStateHandle(snapshot, args[0]);
            System.out.println("wrote " + args[0]);
        } finally {
            GatedBackend.openGate();
        }
    }
}
