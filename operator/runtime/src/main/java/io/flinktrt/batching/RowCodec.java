package io.flinktrt.batching;

import io.flinktrt.backend.BatchBuffers;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Writes one prepared record into its row of a batch and reads its outputs back (the buffer half of
 * DJL's {@code Translator}). Called by a {@link BatchScheduler} from its own threads: the methods
 * must be safe to call for different rows at once, and must not keep the buffers.
 *
 * @param <P> a record checked and ready to run (its inputs match the model's, sample by sample)
 * @param <OUT> what one record's outputs become
 */
@PublicEvolving
public interface RowCodec<P, OUT> {

    /**
     * Copies the record's inputs into row {@code row}: input {@code i} at byte {@code row *
     * signature.inputs().get(i).sampleBytes()} of {@code buffers.input(i)}, written with absolute
     * puts. Throwing fails this record only.
     */
    void putRow(P record, BatchBuffers buffers, int row);

    /**
     * Whether {@link #putRow} does work beyond a copy (tokenizing text): then rows are written on
     * the scheduler's copy threads however small they are, so that the work runs on several cores
     * while the batch fills and the batcher thread never bounds the slot.
     */
    default boolean putRowComputes() {
        return false;
    }

    /**
     * For a model with a sequence axis: how many positions the record fills (its tokens). Called
     * once per record before it queues, on the scheduler's copy threads, so records of similar
     * length meet in one batch; it may do the work {@link #putRow} would (tokenize) and keep it in
     * the record. Throwing fails this record only. Default: the longest length (no saving).
     */
    default int sequenceLength(P record, int longest) {
        return longest;
    }

    /**
     * Reads the record's outputs from row {@code row} of {@code buffers}, after its batch ran. The
     * buffers are reused once this returns, so the result must not point into them. Throwing fails
     * this record only.
     */
    OUT readRow(P record, BatchBuffers buffers, int row, BatchInfo batch);
}
