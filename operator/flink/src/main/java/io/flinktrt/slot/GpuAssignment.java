package io.flinktrt.slot;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which GPU a slot runs on. Flink's {@code gpu} external resource lists the GPUs of the task
 * manager, the same set for every operator: Flink does not bind a slot to a GPU. So the slots of
 * this JVM share them out here, each taking the GPU the fewest slots use now. Without that
 * resource, the configured device index is used.
 */
@Internal
public final class GpuAssignment {

    /** Slots of this JVM (this class loader, if the jar is not in Flink's lib/) on each device. */
    private static final Map<Integer, Integer> SLOTS_ON_DEVICE = new HashMap<>();

    private GpuAssignment() {}

    /** A slot's device, held until closed; {@code source} says where the choice came from. */
    public static final class Claim implements AutoCloseable {
        private final int deviceIndex;
        private final String source;
        private boolean released;

        private Claim(int deviceIndex, String source) {
            this.deviceIndex = deviceIndex;
            this.source = source;
        }

        public int deviceIndex() {
            return deviceIndex;
        }

        public String source() {
            return source;
        }

        @Override
        public void close() {
            synchronized (SLOTS_ON_DEVICE) {
                if (!released) {
                    released = true;
                    SLOTS_ON_DEVICE.merge(deviceIndex, -1, Integer::sum);
                }
            }
        }
    }

    public static Claim claim(Collection<ExternalResourceInfo> gpus, int configuredDevice) {
        List<Integer> indices =
                gpus.stream()
                        .map(info -> info.getProperty("index").orElse(""))
                        .filter(index -> !index.isBlank())
                        .map(index -> Integer.parseInt(index.trim()))
                        .sorted()
                        .toList();
        synchronized (SLOTS_ON_DEVICE) {
            if (indices.isEmpty()) {
                SLOTS_ON_DEVICE.merge(configuredDevice, 1, Integer::sum);
                return new Claim(
                        configuredDevice,
                        "configuration (inference.device; no Flink gpu resource)");
            }
            int device = indices.get(0);
            for (int index : indices) {
                if (SLOTS_ON_DEVICE.getOrDefault(index, 0)
                        < SLOTS_ON_DEVICE.getOrDefault(device, 0)) {
                    device = index;
                }
            }
            int sharing = SLOTS_ON_DEVICE.merge(device, 1, Integer::sum);
            return new Claim(
                    device,
                    "Flink gpu external resource "
                            + indices
                            + ", least used ("
                            + sharing
                            + " slot(s) on it now)");
        }
    }
}
