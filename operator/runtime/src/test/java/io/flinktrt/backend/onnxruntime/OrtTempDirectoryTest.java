package io.flinktrt.backend.onnxruntime;

import io.flinktrt.backend.Availability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ONNX Runtime's loader leaves an {@code onnxruntime-java*} folder in java.io.tmpdir behind every
 * JVM that loads it (with the libraries in it if the JVM is killed); the backend removes it as soon
 * as the libraries are loaded. Checked in a JVM of its own, with its own java.io.tmpdir: while it
 * runs (as a killed JVM would leave it) and after it exits.
 */
class OrtTempDirectoryTest {

    @Test
    @Timeout(120)
    void noOnnxRuntimeFolderIsLeftInTheTemporaryDirectory(@TempDir Path tmp) throws Exception {
        Process jvm =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Djava.io.tmpdir=" + tmp,
                                "-cp",
                                System.getProperty("java.class.path"),
                                LoadOnnxRuntime.class.getName())
                        .redirectErrorStream(true)
                        .start();
        try (BufferedReader out =
                        new BufferedReader(
                                new InputStreamReader(
                                        jvm.getInputStream(), StandardCharsets.UTF_8));
                OutputStream in = jvm.getOutputStream()) {
            String line = out.readLine();
            assertThat(line).as("the JVM's first line").startsWith("yes:");
            assertThat(ortFolders(tmp)).as("while the JVM runs, ONNX Runtime loaded").isEmpty();
            in.write('\n');
            in.flush();
            assertThat(jvm.waitFor()).isZero();
        } finally {
            jvm.destroyForcibly();
        }
        assertThat(ortFolders(tmp)).as("after the JVM exited").isEmpty();
    }

    private static List<String> ortFolders(Path tmp) throws IOException {
        try (Stream<Path> entries = Files.list(tmp)) {
            return entries.map(p -> p.getFileName().toString())
                    .filter(name -> name.startsWith("onnxruntime-java"))
                    .toList();
        }
    }

    /** Loads ONNX Runtime through the backend, says so, and exits when a line comes in. */
    public static final class LoadOnnxRuntime {
        public static void main(String[] args) throws IOException {
            Availability availability = new OnnxRuntimeBackend().availability();
            System.out.println((availability.available() ? "yes: " : "no: ") + availability);
            System.out.flush();
            System.in.read();
        }
    }
}
