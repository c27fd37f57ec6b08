package io.flinktrt.backend;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    /**
     * What the backends' own settings start with: each backend's name and a dot ({@code
     * tensorrt.contexts}, {@code onnxruntime.intra-op-threads}).
     */
    public static List<String> settingPrefixes() {
        return all().stream().map(backend -> backend.name() + ".").toList();
    }

    /** The backends' own settings among {@code options}, passed on to them as they are. */
    public static Map<String, String> backendSettings(Map<String, String> options) {
        List<String> prefixes = settingPrefixes();
        Map<String, String> settings = new HashMap<>();
        options.forEach(
                (key, value) -> {
                    if (prefixes.stream().anyMatch(key::startsWith)) {
                        settings.put(key, value);
                    }
                });
        return settings;
    }

    /** The backend chosen for a model, and why, in a sentence a user can read. */
    public record Selection(InferenceBackend backend, String reason) {}

    /**
     * The first of a model's files (a plan, then its ONNX file) a backend here opens, and which.
     */
    public record FileSelection(Path file, Selection selection) {}

    /**
     * The first of {@code files} that {@link #select} takes; its refusal of the last one when none
     * is taken.
     */
    public static FileSelection selectFirst(String requested, List<Path> files)
            throws BackendException {
        BackendException refused = new BackendException("No model file to open");
        for (Path file : files) {
            try {
                return new FileSelection(file, select(requested, file));
            } catch (BackendException e) {
                refused = e;
            }
        }
        throw refused;
    }

    public static Selection select(String requested, Path model) throws BackendException {
        List<InferenceBackend> backends = all();
        if (!AUTO.equals(requested)) {
            InferenceBackend backend = named(backends, requested);
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

    /**
     * What {@code model} takes and gives, without opening it ({@link InferenceBackend#describe}):
     * told by the requested backend (for {@code auto}, the most preferred that reads the file);
     * where that one knows it only once built (TensorRT from ONNX), by the next that reads the
     * file, since both see the same tensors.
     */
    public static ModelSignature describe(String requested, Path model) throws BackendException {
        return describe(requested, model, List.of());
    }

    /** As {@link #describe(String, Path)}, a sequence axis run at {@code sequenceLengths}. */
    public static ModelSignature describe(
            String requested, Path model, List<Integer> sequenceLengths) throws BackendException {
        if (!Files.isRegularFile(model)) {
            throw new BackendException(
                    "Model file " + model.toAbsolutePath() + " does not exist or is not a file.");
        }
        List<InferenceBackend> backends = new ArrayList<>(all());
        if (!AUTO.equals(requested)) {
            InferenceBackend chosen = named(backends, requested);
            backends.remove(chosen);
            backends.add(0, chosen);
        }
        for (InferenceBackend backend : backends) {
            if (backend.accepts(model)) {
                Optional<ModelSignature> signature = backend.describe(model, sequenceLengths);
                if (signature.isPresent()) {
                    return signature.get();
                }
            }
        }
        throw new BackendException(
                "No backend reads the inputs and outputs of "
                        + model.getFileName()
                        + "; give an ONNX file or a plan built by build-engine.");
    }

    private static InferenceBackend named(List<InferenceBackend> backends, String name)
            throws BackendException {
        for (InferenceBackend backend : backends) {
            if (backend.name().equals(name)) {
                return backend;
            }
        }
        throw new BackendException(
                "Unknown backend '" + name + "'; use one of " + names(backends) + " or auto.");
    }

    private static List<String> names(List<InferenceBackend> backends) {
        return backends.stream().map(InferenceBackend::name).toList();
    }
}
