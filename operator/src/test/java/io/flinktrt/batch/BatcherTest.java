package io.flinktrt.batch;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatcherTest {

    @Test
    void handsOnABatchAsSoonAsItIsFull() {
        List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        try (Batcher<Integer> batcher = new Batcher<>(3, Duration.ofHours(1), batches::add, "t")) {
            for (int i = 0; i < 7; i++) {
                batcher.add(i);
            }
            assertThat(batches).containsExactly(List.of(0, 1, 2), List.of(3, 4, 5));
            assertThat(batcher.pendingCount()).isEqualTo(1);
        }
    }

    @Test
    void handsOnAPartialBatchWhenItsOldestItemHasWaitedMaxDelay() throws Exception {
        LinkedBlockingQueue<List<Integer>> batches = new LinkedBlockingQueue<>();
        try (Batcher<Integer> batcher = new Batcher<>(100, Duration.ofMillis(50), batches::add, "t")) {
            long start = System.nanoTime();
            batcher.add(1);
            batcher.add(2);
            List<Integer> batch = batches.poll(10, TimeUnit.SECONDS);
            assertThat(batch).containsExactly(1, 2);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(50).toNanos());
            assertThat(batcher.pendingCount()).isZero();
        }
    }

    @Test
    void aDeadlineOfABatchThatLeftFullDoesNotCutTheNextOneShort() throws Exception {
        LinkedBlockingQueue<List<Integer>> batches = new LinkedBlockingQueue<>();
        try (Batcher<Integer> batcher = new Batcher<>(2, Duration.ofMillis(200), batches::add, "t")) {
            batcher.add(1);
            batcher.add(2); // full: leaves now, its deadline is cancelled
            batcher.add(3);
            assertThat(batches.poll()).containsExactly(1, 2);
            batcher.add(4);
            assertThat(batches.poll()).containsExactly(3, 4);
            batcher.add(5);
            assertThat(batches.poll(10, TimeUnit.SECONDS)).containsExactly(5);
            assertThat(batches).isEmpty();
        }
    }

    @Test
    void zeroDelayHandsOnEveryItemAlone() {
        List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        try (Batcher<Integer> batcher = new Batcher<>(8, Duration.ZERO, batches::add, "t")) {
            batcher.add(1);
            batcher.add(2);
            assertThat(batches).containsExactly(List.of(1), List.of(2));
        }
    }

    @Test
    void flushHandsOnWhatIsPending() {
        List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        try (Batcher<Integer> batcher = new Batcher<>(8, Duration.ofHours(1), batches::add, "t")) {
            batcher.flush();
            batcher.add(1);
            batcher.flush();
            assertThat(batches).containsExactly(List.of(1));
        }
    }

    @Test
    void rejectsSettingsThatCannotWork() {
        assertThatThrownBy(() -> new Batcher<Integer>(0, Duration.ZERO, b -> {}, "t"))
                .hasMessageContaining("at least 1");
        assertThatThrownBy(() -> new Batcher<Integer>(1, Duration.ofMillis(-1), b -> {}, "t"))
                .hasMessageContaining("negative");
    }
}
