package io.flinktrt.operator;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

import java.util.Collection;
import java.util.List;

/**
 * Which GPU a slot runs on. Flink's {@code gpu} external resource lists the GPUs of the task
 * manager (all operators see the same set), so slots are spread over them by subtask index;
 * without that resource the configured device index is used.
 */
public final class GpuAssignment {

    private GpuAssignment() {}

    /** The device for subtask {@code subtaskIndex}, and where the choice came from. */
    public record Choice(int deviceIndex, String source) {}

    public static Choice choose(Collection<ExternalResourceInfo> gpus, int subtaskIndex, int configuredDevice) {
        List<Integer> indices = gpus.stream()
                .map(info -> info.getProperty("index").orElse(null))
                .filter(index -> index != null && !index.isBlank())
                .map(index -> Integer.parseInt(index.trim()))
                .sorted()
                .toList();
        if (indices.isEmpty()) {
            return new Choice(configuredDevice, "configuration (inference.device; no Flink gpu resource)");
        }
        int device = indices.get(subtaskIndex % indices.size());
        return new Choice(device, "Flink gpu external resource " + indices + ", subtask " + subtaskIndex);
    }
}
