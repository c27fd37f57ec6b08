package io.flinktrt.backend.tensorrt.gpu;

import org.apache.flink.annotation.Internal;

/**
 * Which of the project's two TensorRT lines fits a GPU and its driver: 10.6 on CUDA 12.6 (the
 * default build) and 10.15 on CUDA 13.1 ({@code mvn -Ptrt10.15}). Blackwell (compute capability 10
 * and 12: B200, GB200, RTX PRO, RTX 50) came with TensorRT 10.8, so only the 10.15 line runs there;
 * a CUDA 13 runtime needs a driver that supports CUDA 13 (R580 or newer). Pure logic, so {@code
 * doctor}'s advice is tested without a GPU.
 */
@Internal
public final class TensorRtLines {

    private TensorRtLines() {}

    /**
     * What {@code doctor} says about the lines.
     *
     * @param computeCapability e.g. {@code 9.0}
     * @param driverCuda the newest CUDA the driver supports, e.g. {@code 13.0}
     * @param runningTensorRt the TensorRT version loaded here, e.g. {@code 10.6.0.26}
     */
    public static String advice(
            String computeCapability, String driverCuda, String runningTensorRt) {
        boolean blackwell = major(computeCapability) >= 10;
        boolean cuda13Driver = major(driverCuda) >= 13;
        boolean running1015 = minor(runningTensorRt) >= 15 || major(runningTensorRt) > 10;
        StringBuilder advice =
                new StringBuilder("TensorRT line: running " + line(running1015) + "; ");
        if (blackwell) {
            advice.append("compute capability ")
                    .append(computeCapability)
                    .append(" (Blackwell) needs TensorRT 10.8 or newer: the 10.15 line");
            if (!cuda13Driver) {
                advice.append(
                        ", whose CUDA 13 runtime this driver (CUDA "
                                + driverCuda
                                + ") cannot run: install an NVIDIA driver of R580 or newer");
            } else if (!running1015) {
                advice.append(
                        ": build with mvn -Ptrt10.15, or run with a system TensorRT 10.15 / CUDA 13"
                                + " (an NGC image) and -Dorg.bytedeco.javacpp.pathsFirst=true");
            }
            return advice.append('.').toString();
        }
        advice.append("compute capability ")
                .append(computeCapability)
                .append(" runs the 10.6 line (the default)");
        if (cuda13Driver) {
            advice.append(" and the 10.15 line (the driver supports CUDA ")
                    .append(driverCuda)
                    .append(')');
        } else {
            advice.append("; the 10.15 line would need a driver for CUDA 13 (R580 or newer)");
        }
        return advice.append('.').toString();
    }

    private static String line(boolean is1015) {
        return is1015 ? "the 10.15 line (CUDA 13)" : "the 10.6 line (CUDA 12)";
    }

    private static int major(String version) {
        return part(version, 0);
    }

    private static int minor(String version) {
        return part(version, 1);
    }

    private static int part(String version, int index) {
        String[] parts = version.trim().split("\\.");
        try {
            return index < parts.length ? Integer.parseInt(parts[index]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
