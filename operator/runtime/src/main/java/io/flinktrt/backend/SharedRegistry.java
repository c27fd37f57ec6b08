package io.flinktrt.backend;

import org.apache.flink.annotation.Internal;

import java.util.HashMap;
import java.util.Map;

/**
 * Process-wide, reference-counted objects shared by the slots of one JVM: one ONNX Runtime session
 * or one TensorRT engine per (model, device), so weights are loaded once. The last lease to close
 * closes the object.
 */
@Internal
public final class SharedRegistry<K, V extends AutoCloseable> {

    /** Creates the shared object on first use. */
    @FunctionalInterface
    public interface Factory<K, V> {
        V create(K key) throws BackendException;
    }

    private static final class Entry<V> {
        final V value;
        int references;

        Entry(V value) {
            this.value = value;
        }
    }

    private final Map<K, Entry<V>> entries = new HashMap<>();

    /** Returns the object for {@code key}, creating it if no lease holds it now. */
    public synchronized Lease acquire(K key, Factory<K, V> factory) throws BackendException {
        Entry<V> entry = entries.get(key);
        if (entry == null) {
            entry = new Entry<>(factory.create(key));
            entries.put(key, entry);
        }
        entry.references++;
        return new Lease(key, entry.value);
    }

    private synchronized void release(K key) throws Exception {
        Entry<V> entry = entries.get(key);
        if (--entry.references == 0) {
            entries.remove(key);
            entry.value.close();
        }
    }

    /** A hold on a shared object; closing it twice is a no-op. */
    public final class Lease implements AutoCloseable {
        private final K key;
        private final V value;
        private boolean closed;

        private Lease(K key, V value) {
            this.key = key;
            this.value = value;
        }

        public V get() {
            return value;
        }

        @Override
        public void close() throws Exception {
            if (!closed) {
                closed = true;
                release(key);
            }
        }
    }
}
