package io.flinktrt.tools.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's {@code bin/flink-tensorrt sql -f examples/sql/ml-predict.sql}, as a user runs it.
 */
@Timeout(300)
class SqlExampleITCase {

    @Test
    void theExampleScriptPredictsAndShowsABadRowWithItsReason() {
        ExampleScripts.Run run = ExampleScripts.sql("ml-predict.sql");
        String printed = run.printed();
        assertThat(run.exit()).isZero();
        assertThat(printed)
                .contains("id | distance | mix | error")
                .contains("r1 | 7.75 | [3.0551722, 1.3162783, 2.6179793, 1.6280358] | null")
                .contains(
                        "r3 | null | null | INPUT column 'b' has 1 elements; tensor 'b' (b:FLOAT32[N, 8]) takes 8 per row")
                .contains("(5 rows)");
    }
}
