package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;

/**
 * Refuses a layout that cannot fit before anything is allocated for it: each lane of a runner needs
 * the engine's activation memory (shared by the lane's contexts), its input buffers on the GPU and,
 * where it decodes JPEGs, at least the decoder's memory for a batch of images of the input's size.
 * A slot that started and then failed halfway would leave the other slots of the GPU short too.
 */
final class GpuMemoryBudget {

    private static final double MIB = 1 << 20;

    private GpuMemoryBudget() {}

    /**
     * @param perContextBytes the engine's activation memory, one per lane
     * @param inputBytesPerLane the device input buffers of one lane at the max batch
     * @param jpegBytesPerLane the least memory of one lane's JPEG decoder (0: it decodes none)
     */
    static void check(
            String model,
            int device,
            int lanes,
            long perContextBytes,
            long inputBytesPerLane,
            long jpegBytesPerLane,
            long freeBytes)
            throws BackendException {
        long needed = lanes * (perContextBytes + inputBytesPerLane + jpegBytesPerLane);
        if (needed > freeBytes) {
            throw new BackendException(
                    String.format(
                            "Model %s does not fit on GPU %d: %d lane(s) need at least %.0f MiB (per lane: activations %.0f MiB"
                                    + " + input buffers %.0f MiB%s) and %.0f MiB are free (the engine's weights are already"
                                    + " loaded). Use fewer slots on this GPU, fewer contexts per slot"
                                    + " (tensorrt.contexts), a smaller max batch, or another GPU.",
                            model,
                            device,
                            lanes,
                            needed / MIB,
                            perContextBytes / MIB,
                            inputBytesPerLane / MIB,
                            jpegBytesPerLane > 0
                                    ? String.format(
                                            " + JPEG decoding %.0f MiB; tensorrt.image-decode=cpu"
                                                    + " decodes on the CPU",
                                            jpegBytesPerLane / MIB)
                                    : "",
                            freeBytes / MIB));
        }
    }
}
