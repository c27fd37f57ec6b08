package io.flinktrt.backend.tensorrt.runtime;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How many batches the TensorRT runner tells the scheduler the GPU works on at once (no GPU
 * needed).
 */
class BatchesAtOnceTest {

    /**
     * bert_like on the H200: 128 rows of token ids copy in well under a ms, the kernels take 7.86
     * ms.
     */
    @Test
    void smallRowsKeepOneBatchOnTheDeviceWhateverTheLanes() {
        assertThat(TensorRtRunner.batchesAtOnce(2, 0.02, 7.86)).isEqualTo(1);
        assertThat(TensorRtRunner.batchesAtOnce(4, 0.02, 7.86)).isEqualTo(1);
    }

    /** resnet50 on the H200: 77 MB of images copy in about 3.4 ms beside 3.1 ms of kernels. */
    @Test
    void imagesKeepASecondBatchCopyingBesideTheOneComputing() {
        assertThat(TensorRtRunner.batchesAtOnce(2, 3.4, 3.1)).isEqualTo(2);
    }

    @Test
    void neverMoreThanTheLanesNorLessThanOne() {
        assertThat(TensorRtRunner.batchesAtOnce(1, 3.4, 3.1)).isEqualTo(1);
        assertThat(TensorRtRunner.batchesAtOnce(2, 30, 3.1)).isEqualTo(2);
        assertThat(TensorRtRunner.batchesAtOnce(2, 0, 0)).isEqualTo(1);
    }
}
