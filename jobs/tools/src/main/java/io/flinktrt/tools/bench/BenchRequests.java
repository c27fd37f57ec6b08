package io.flinktrt.tools.bench;

import io.flinktrt.backend.ModelSignature;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.wire.AvroCodec;
import io.flinktrt.wire.RandomRequests;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The requests every bench stage sends, cycling: random tensors for the model, or encoded photos
 * ({@code --images}), each encoded once.
 */
public final class BenchRequests {

    private static final int RANDOM_SAMPLES = 64;

    private final List<InferenceRequest> samples;
    private final List<byte[]> payloads = new ArrayList<>();
    private final String description;

    private BenchRequests(List<InferenceRequest> samples, String description) {
        this.samples = samples;
        this.description = description;
        AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
        for (InferenceRequest sample : samples) {
            payloads.add(codec.encode(sample));
        }
    }

    public static BenchRequests random(ModelSignature signature) {
        RandomRequests random = new RandomRequests(signature, 100, 42);
        List<InferenceRequest> samples = new ArrayList<>();
        for (int i = 0; i < RANDOM_SAMPLES; i++) {
            samples.add(random.next("sample-" + i));
        }
        return new BenchRequests(samples, "random tensors");
    }

    /**
     * Image requests of the files {@code glob} names (a folder and a file-name pattern, e.g.
     * models/images/photo-224-*.jpg), in name order.
     */
    public static BenchRequests images(String glob) throws IOException {
        List<InferenceRequest> samples = new ArrayList<>();
        for (Path file : files(glob)) {
            samples.add(
                    new InferenceRequest(
                            file.getFileName().toString(),
                            Map.of(),
                            List.of(),
                            null,
                            ByteBuffer.wrap(Files.readAllBytes(file))));
        }
        return new BenchRequests(samples, samples.size() + " images of " + glob);
    }

    /**
     * The files {@code glob} names (a folder and a file-name pattern), in name order; at least one.
     */
    static List<Path> files(String glob) throws IOException {
        Path pattern = Path.of(glob);
        Path dir = pattern.getParent() != null ? pattern.getParent() : Path.of(".");
        PathMatcher matcher =
                FileSystems.getDefault().getPathMatcher("glob:" + pattern.getFileName());
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> named =
                    files.filter(f -> matcher.matches(f.getFileName())).sorted().toList();
            if (named.isEmpty()) {
                throw new IllegalArgumentException(glob + " names no file");
            }
            return named;
        }
    }

    /** Request {@code i}, cycling; its id is the caller's to set. */
    InferenceRequest at(int i) {
        return samples.get(i % samples.size());
    }

    List<InferenceRequest> samples() {
        return samples;
    }

    /** The samples encoded, as a source of records sends them. */
    List<byte[]> payloads() {
        return payloads;
    }

    /** Mean bytes of an encoded request. */
    long meanBytes() {
        return payloads.stream().mapToLong(p -> p.length).sum() / payloads.size();
    }

    @Override
    public String toString() {
        return description;
    }
}
