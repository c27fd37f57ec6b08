package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the backends on the classpath and picks the one to run a model with. */
@PublicEvolving
public final class Backends {

    /**
     * Backend name that lets {@link #select} choose: TensorRT where it can run, else ONNX Runtime.
     */
    public static final String AUTO = "auto";

    private Backends() {}

    /** Every backend on the classpath, most preferred first. */
    public static List<InferenceBackend> all() {
        List<InferenceBackend> backends = new ArrayList<>();
        ServiceLoader.load(InferenceBackend.class, Backends.class.getClassLoader())
                .forEach(backends::add);
        backends.sort(Comparator.comparingInt(InferenceBackend::priority).reversed());
        return backends;
    }

    /** The backend chosen for a model, and why, in a sentence a user can read. */
    public record Selection(InferenceBackend backend, String reason) {}

    public static Selection select(String requested, Path model) throws BackendException {
        List<InferenceBackend> backends = all();
        if (!AUTO.equals(requested)) {
            InferenceBackend backend =
                    backends.stream()
                            .filter(b -> b.name().equals(requested))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new BackendException(
                                                    "Unknown backend '"
                                                            + requested
                                                            + "'; use one of "
                                                            + names(backends)
                                                            + " or auto."));
            Availability availability = backend.availability();
            if (!availability.available()) {
                throw new BackendException(
                        "Backend " + requested + " cannot run here: " + availability.reason());
            }
            if (!backend.accepts(model)) {
                throw new BackendException(
                        "Backend "
                                + requested
                                + " cannot open "
                                + model.getFileName()
                                + "; give it a model file it reads, or another backend.");
            }
            return new Selection(
                    backend, "requested by configuration (" + availability.reason() + ")");
        }
        StringBuilder passedOver = new StringBuilder();
        for (InferenceBackend backend : backends) {
            if (!backend.accepts(model)) {
                passedOver
                        .append(backend.name())
                        .append(" does not read ")
                        .append(model.getFileName())
                        .append("; ");
                continue;
            }
            Availability availability = backend.availability();
            if (availability.available()) {
                return new Selection(
                        backend,
                        passedOver + "chose " + backend.name() + ": " + availability.reason());
            }
            passedOver
                    .append(backend.name())
                    .append(" unavailable: ")
                    .append(availability.reason())
                    .append("; ");
        }
        throw new BackendException("No backend can run " + model + ": " + passedOver);
    }

    private static List<String> names(List<InferenceBackend> backends) {
        return backends.stream().map(InferenceBackend::name).toList();
    }
}
