package io.flinktrt.slot;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.batching.ScheduledRecord;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.annotation.Internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;

/**
 * One model version open in a slot (Triton's model instance): its runner, the codec bound to it,
 * and the scheduler that batches the records routed to it. A version another replaced retires:
 * every record it took is batched and answered, then its runner and GPU memory are freed.
 *
 * @param <P> a record as the codec prepared it
 * @param <OUT> a record's output
 */
@Internal
public final class ServedVersion<P, OUT> {

    private static final Logger LOG = LoggerFactory.getLogger(ServedVersion.class);

    private final ServedModel served;
    private final SlotModel model;
    private final RowCodec<P, OUT> codec;
    private final BatchScheduler<P, OUT> scheduler;
    private final VersionMetrics metrics;

    ServedVersion(
            ServedModel served,
            SlotModel model,
            RowCodec<P, OUT> codec,
            BatchScheduler<P, OUT> scheduler,
            VersionMetrics metrics) {
        this.served = served;
        this.model = model;
        this.codec = codec;
        this.scheduler = scheduler;
        this.metrics = metrics;
    }

    public ServedModel served() {
        return served;
    }

    /** The codec bound to this version's signature: what writes its rows and reads its outputs. */
    public RowCodec<P, OUT> codec() {
        return codec;
    }

    ModelSignature signature() {
        return model.runner().signature();
    }

    /** Queues a record that completes itself (exactly one completion wins). */
    public void submit(ScheduledRecord<P, OUT> record) {
        scheduler.submit(record);
    }

    CompletableFuture<OUT> submit(P record) {
        return scheduler.submit(record);
    }

    /** Counts a record this version took and did not answer, by why. */
    public void failed(ErrorCode code) {
        metrics.failed(code);
    }

    /** Answers every record it took, then frees the runner and the GPU claim. */
    void retire() {
        long start = System.nanoTime();
        try {
            scheduler.drainAndClose();
        } finally {
            model.close();
        }
        LOG.info(
                "Released {} ({}) after its last batch, {} ms after it was replaced",
                served,
                model.file(),
                (System.nanoTime() - start) / 1_000_000);
    }

    /** Closes without waiting for its records (Flink replays them after a restart). */
    void close() {
        try {
            scheduler.close();
        } finally {
            model.close();
        }
    }
}
