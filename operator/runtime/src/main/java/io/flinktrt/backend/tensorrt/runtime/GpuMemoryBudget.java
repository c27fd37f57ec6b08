package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;

/**
 * Refuses a layout that cannot fit before anything is allocated for it: each lane of a runner needs
 * the engine's activation memory (shared by the lane's contexts) and its input buffers on the GPU.
 * A slot that started and then failed halfway would leave the other slots of the GPU short too.
 */
final class GpuMemoryBudget {

    private static final double MIB = 1 << 20;

    private GpuMemoryBudget() {}

    /**
     * @param perContextBytes the engine's activation memory, one per lane
     * @param inputBytesPerLane the device input buffers of one lane at the max batch
     */
    static void check(
            String model,
            int device,
            int lanes,
            long perContextBytes,
            long inputBytesPerLane,
            long freeBytes)
            throws BackendException {
        long needed = lanes * (perContextBytes + inputBytesPerLane);
        if (needed > freeBytes) {
            throw new BackendException(
                    String.format(
                            "Model %s does not fit on GPU %d: %d lane(s) need at least %.0f MiB (per lane: activations %.0f MiB"
                                    + " + input buffers %.0f MiB) and %.0f MiB are free (the engine's weights are already"
                                    + " loaded). Use fewer slots on this GPU, fewer contexts per slot"
                                    + " (tensorrt.contexts), a smaller max batch, or another GPU.",
                            model,
                            device,
                            lanes,
                            needed / MIB,
                            perContextBytes / MIB,
                            inputBytesPerLane / MIB,
                            freeBytes / MIB));
        }
    }
}
