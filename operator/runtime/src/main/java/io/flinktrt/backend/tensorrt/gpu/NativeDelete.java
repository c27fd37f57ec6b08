package io.flinktrt.backend.tensorrt.gpu;

import org.apache.flink.annotation.Internal;

import org.bytedeco.javacpp.Pointer;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Runs the C++ {@code delete} on a TensorRT object that a factory returned (runtime, engine,
 * context, builder...). JavaCPP attaches no deallocator to those, so {@code close()} frees nothing:
 * measured on our H100, a ResNet-50 engine + context lost about 580 MB of GPU memory per
 * deserialize/close cycle (javacpp-presets issue 1699). A Java-allocated instance of the same class
 * does carry JavaCPP's generated {@code delete (T*)p} function; it is borrowed from a dummy
 * instance kept for the life of the JVM, and called on the factory-made object's address.
 * TensorRT's destructors are virtual, so deleting through the interface type frees the real object.
 */
@Internal
public final class NativeDelete {

    /** A dummy of one class, whose native deallocator holds the address of {@code delete (T*)p}. */
    private record Deleter(Pointer dummy, Object nativeDeallocator, long function) {}

    private static final Map<Class<?>, Deleter> DELETERS = new ConcurrentHashMap<>();
    private static final Field DEALLOCATOR_FIELD;
    private static final Method DEALLOCATOR_ADDRESS;
    private static final Method NATIVE_DEALLOCATE;

    static {
        try {
            DEALLOCATOR_FIELD = Pointer.class.getDeclaredField("deallocator");
            DEALLOCATOR_FIELD.setAccessible(true);
            Class<?> nativeDeallocator =
                    Class.forName("org.bytedeco.javacpp.Pointer$NativeDeallocator");
            DEALLOCATOR_ADDRESS = nativeDeallocator.getDeclaredMethod("deallocatorAddress");
            DEALLOCATOR_ADDRESS.setAccessible(true);
            NATIVE_DEALLOCATE =
                    nativeDeallocator.getDeclaredMethod("deallocate", long.class, long.class);
            NATIVE_DEALLOCATE.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(
                    "JavaCPP's Pointer internals changed (expected 1.5.11): " + e);
        }
    }

    private NativeDelete() {}

    /**
     * Deletes {@code object} (a no-op on null) and nulls its address. {@code dummy} makes a
     * Java-allocated instance of exactly the same class, e.g. {@code IRuntime::new}.
     */
    public static void delete(Pointer object, Supplier<? extends Pointer> dummy) {
        if (object == null || object.isNull()) {
            return;
        }
        Deleter deleter =
                DELETERS.computeIfAbsent(object.getClass(), c -> deleterOf(c, dummy.get()));
        try {
            NATIVE_DEALLOCATE.invoke(
                    deleter.nativeDeallocator(), object.address(), deleter.function());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "Could not delete " + object.getClass().getSimpleName() + ": " + e, e);
        }
        object.setNull();
    }

    private static Deleter deleterOf(Class<?> type, Pointer dummy) {
        if (dummy.getClass() != type) {
            throw new IllegalArgumentException(
                    "A " + dummy.getClass() + " cannot delete a " + type);
        }
        try {
            Object nativeDeallocator = DEALLOCATOR_FIELD.get(dummy);
            if (nativeDeallocator == null
                    || !NATIVE_DEALLOCATE.getDeclaringClass().isInstance(nativeDeallocator)) {
                throw new IllegalStateException(
                        "JavaCPP allocated "
                                + type.getSimpleName()
                                + " without a native deallocator; cannot reach its C++ delete.");
            }
            long function = (long) DEALLOCATOR_ADDRESS.invoke(nativeDeallocator);
            return new Deleter(dummy, nativeDeallocator, function);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "Could not read " + type.getSimpleName() + "'s deallocator: " + e, e);
        }
    }
}
