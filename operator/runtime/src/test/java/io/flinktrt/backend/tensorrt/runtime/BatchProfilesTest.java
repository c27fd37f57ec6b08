package io.flinktrt.backend.tensorrt.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How a runner cuts a batch into the plan's buckets. */
class BatchProfilesTest {

    @Test
    void batchesArePaddedUpToTheirBucket() {
        BatchProfiles profiles = buckets1To128();
        assertThat(profiles.choose(1)).isEqualTo(new BatchProfiles.Choice(0, 1));
        assertThat(profiles.choose(2)).isEqualTo(new BatchProfiles.Choice(1, 8));
        assertThat(profiles.choose(9)).isEqualTo(new BatchProfiles.Choice(2, 32));
        assertThat(profiles.choose(100)).isEqualTo(new BatchProfiles.Choice(3, 128));
        assertThat(profiles.warmUpBatches()).containsExactly(1, 8, 32, 128);
        assertThatThrownBy(() -> profiles.choose(129)).hasMessageContaining("1..128");
    }

    /** Bucket times as measured for the BERT-like encoder on the H100 (ms), rounded. */
    @Test
    void onceBucketsAreTimedABatchRunsAsTheCheapestChunks() {
        BatchProfiles profiles = buckets1To128();
        assertThat(profiles.plan(40, 0))
                .containsExactly(new BatchProfiles.Chunk(40, new BatchProfiles.Choice(3, 128)));
        profiles.useCosts(Map.of(1, 0.31, 8, 0.73, 32, 2.06, 128, 7.4));
        assertThat(profiles.plan(40, 0))
                .containsExactlyInAnyOrder(
                        new BatchProfiles.Chunk(32, new BatchProfiles.Choice(2, 32)),
                        new BatchProfiles.Chunk(8, new BatchProfiles.Choice(1, 8)));
        assertThat(profiles.plan(128, 0))
                .containsExactly(new BatchProfiles.Chunk(128, new BatchProfiles.Choice(3, 128)));
        assertThat(profiles.plan(110, 0))
                .containsExactly(new BatchProfiles.Chunk(110, new BatchProfiles.Choice(3, 128)));
        assertThat(profiles.plan(3, 0))
                .containsExactly(new BatchProfiles.Chunk(3, new BatchProfiles.Choice(1, 8)));
        assertThat(profiles.plan(65, 0))
                .extracting(BatchProfiles.Chunk::rows)
                .containsExactlyInAnyOrder(32, 32, 1);
    }

    /** A tiny model: every bucket takes about as long, and the timings are noise. */
    @Test
    void bucketsTimedAlikeDoNotPadSmallBatchesToTheLargest() {
        BatchProfiles profiles =
                new BatchProfiles(
                        List.of(
                                new BatchProfiles.Profile(0, 1, 1, 1),
                                new BatchProfiles.Profile(1, 2, 8, 8),
                                new BatchProfiles.Profile(2, 9, 32, 32)),
                        32);
        profiles.useCosts(Map.of(1, 0.021, 8, 0.022, 32, 0.020));
        assertThat(profiles.plan(3, 0))
                .containsExactly(new BatchProfiles.Chunk(3, new BatchProfiles.Choice(1, 8)));
        assertThat(profiles.plan(20, 0))
                .containsExactly(new BatchProfiles.Chunk(20, new BatchProfiles.Choice(2, 32)));
    }

    @Test
    void profilesWithRoomAboveOptAreNeverSplit() {
        BatchProfiles profiles =
                new BatchProfiles(List.of(new BatchProfiles.Profile(0, 1, 32, 128)), 128);
        profiles.useCosts(Map.of(32, 1.0));
        assertThat(profiles.plan(100, 0))
                .containsExactly(new BatchProfiles.Chunk(100, new BatchProfiles.Choice(0, 100)));
    }

    @Test
    void paddingStaysWithinTheRunnersMaxBatch() {
        BatchProfiles profiles =
                new BatchProfiles(List.of(new BatchProfiles.Profile(0, 1, 32, 128)), 20);
        assertThat(profiles.choose(5))
                .isEqualTo(new BatchProfiles.Choice(0, 20)); // opt 32 is above the limit
        assertThat(profiles.warmUpBatches()).containsExactly(20);
        BatchProfiles wide =
                new BatchProfiles(List.of(new BatchProfiles.Profile(0, 1, 32, 128)), 128);
        assertThat(wide.choose(5)).isEqualTo(new BatchProfiles.Choice(0, 32));
        assertThat(wide.choose(50))
                .isEqualTo(new BatchProfiles.Choice(0, 50)); // above opt: run as it is
    }

    @Test
    void aTextBatchRunsInTheProfileOfItsBatchBucketAndLengthAndASplitKeepsItsLength() {
        // as build-engine --batch-buckets 8,32 --sequence-lengths 16,128 makes them
        BatchProfiles profiles =
                new BatchProfiles(
                        List.of(
                                new BatchProfiles.Profile(0, 1, 8, 8, 1, 16),
                                new BatchProfiles.Profile(1, 1, 8, 8, 17, 128),
                                new BatchProfiles.Profile(2, 9, 32, 32, 1, 16),
                                new BatchProfiles.Profile(3, 9, 32, 32, 17, 128)),
                        32);
        assertThat(profiles.choose(5, 16)).isEqualTo(new BatchProfiles.Choice(0, 8, 16));
        assertThat(profiles.choose(5, 128)).isEqualTo(new BatchProfiles.Choice(1, 8, 128));
        assertThat(profiles.choose(20, 128)).isEqualTo(new BatchProfiles.Choice(3, 32, 128));
        profiles.useCosts(java.util.Map.of(8, 1.0, 32, 10.0));
        assertThat(profiles.plan(10, 16))
                .containsExactly(
                        new BatchProfiles.Chunk(8, new BatchProfiles.Choice(0, 8, 16)),
                        new BatchProfiles.Chunk(2, new BatchProfiles.Choice(0, 8, 16)));
        assertThatThrownBy(() -> profiles.choose(5, 200))
                .hasMessageContaining("at sequence length 200");
    }

    /** The bench's plans: buckets 1, 8, 32 and 128, each profile's opt at its max. */
    private static BatchProfiles buckets1To128() {
        return new BatchProfiles(
                List.of(
                        new BatchProfiles.Profile(0, 1, 1, 1),
                        new BatchProfiles.Profile(1, 2, 8, 8),
                        new BatchProfiles.Profile(2, 9, 32, 32),
                        new BatchProfiles.Profile(3, 33, 128, 128)),
                128);
    }
}
