package io.flinktrt.backend.onnxruntime;

import ai.onnxruntime.OrtEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Removes the folder ONNX Runtime's loader leaves in {@code java.io.tmpdir}. Its loader (1.22,
 * {@code ai.onnxruntime.OnnxRuntime.init}) makes a new {@code onnxruntime-java*} folder in every
 * JVM, {@code onnxruntime.native.path} or not, unpacks its two libraries into it unless that
 * property names a directory that has them, and asks the JVM to delete the files and the folder at
 * exit: the folder first, while the files are still in it, so an empty folder stays behind after
 * every JVM (with 20 MB in it after a killed one). The libraries are mapped once loaded, so their
 * files and the folder can go right away.
 */
final class OrtTempDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(OrtTempDirectory.class);
    private static final AtomicBoolean REMOVED = new AtomicBoolean();

    private OrtTempDirectory() {}

    /**
     * ONNX Runtime's environment, its libraries loaded and the loader's temporary folder removed
     * (once per JVM; a folder that cannot be read or deleted is left as it is).
     */
    static OrtEnvironment environment() {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        if (REMOVED.compareAndSet(false, true)) {
            try {
                Class<?> loader =
                        Class.forName(
                                "ai.onnxruntime.OnnxRuntime",
                                false,
                                OrtEnvironment.class.getClassLoader());
                Field field = loader.getDeclaredField("tempDirectory");
                field.setAccessible(true);
                Path folder = (Path) field.get(null);
                if (folder != null) {
                    delete(folder);
                }
            } catch (ReflectiveOperationException | RuntimeException | IOException e) {
                LOG.debug("ONNX Runtime's temporary folder is left as it is", e);
            }
        }
        return environment;
    }

    private static void delete(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> tree = Files.walk(folder)) {
            paths = tree.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path path : paths) {
            Files.deleteIfExists(path);
        }
        LOG.debug("Removed ONNX Runtime's temporary folder {}", folder);
    }
}
