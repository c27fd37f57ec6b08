package io.flinktrt.backend.tensorrt.gpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** doctor's advice on the two TensorRT lines, for the GPUs and drivers users have. */
class TensorRtLinesTest {

    @Test
    void hopperRunsTheDefaultLineAndTheNewOneWhereTheDriverHasCuda13() {
        assertThat(TensorRtLines.advice("9.0", "13.0", "10.6.0.26"))
                .isEqualTo(
                        "TensorRT line: running the 10.6 line (CUDA 12); compute capability 9.0 runs"
                                + " the 10.6 line (the default) and the 10.15 line (the driver supports"
                                + " CUDA 13.0).");
        assertThat(TensorRtLines.advice("8.6", "12.4", "10.6.0.26"))
                .endsWith("the 10.15 line would need a driver for CUDA 13 (R580 or newer).");
    }

    @Test
    void blackwellNeedsTheNewLineAndSaysHowToGetIt() {
        assertThat(TensorRtLines.advice("10.0", "13.0", "10.6.0.26"))
                .contains("(Blackwell) needs TensorRT 10.8 or newer: the 10.15 line")
                .contains("mvn -Ptrt10.15")
                .contains("pathsFirst");
        assertThat(TensorRtLines.advice("12.0", "12.8", "10.6.0.26"))
                .contains("this driver (CUDA 12.8) cannot run: install an NVIDIA driver of R580");
        assertThat(TensorRtLines.advice("10.0", "13.1", "10.15.1.29"))
                .isEqualTo(
                        "TensorRT line: running the 10.15 line (CUDA 13); compute capability 10.0"
                                + " (Blackwell) needs TensorRT 10.8 or newer: the 10.15 line.");
    }
}
