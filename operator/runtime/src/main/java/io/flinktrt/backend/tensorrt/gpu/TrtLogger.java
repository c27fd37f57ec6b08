package io.flinktrt.backend.tensorrt.gpu;

import org.apache.flink.annotation.Internal;

import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TensorRT's log, forwarded to SLF4J (logger {@code io.flinktrt.tensorrt}). TensorRT keeps one
 * logger per process and calls it from its own threads; the native peer holds only a weak reference
 * to this object, so the one instance lives in a static final field for the life of the JVM.
 */
@Internal
public final class TrtLogger extends ILogger {

    public static final TrtLogger INSTANCE = new TrtLogger();

    private static final Logger LOG = LoggerFactory.getLogger("io.flinktrt.tensorrt");

    /**
     * Severity values are compared by {@code .value}: enums that come back from native code are new
     * objects.
     */
    private static final int ERROR = Severity.kERROR.value;

    private static final int WARNING = Severity.kWARNING.value;

    /**
     * Messages above this level are dropped before they reach SLF4J (a build logs thousands of
     * verbose lines).
     */
    private volatile int threshold = WARNING;

    private TrtLogger() {}

    /**
     * {@code true} lets TensorRT's info and verbose messages through, at SLF4J level INFO
     * (build-engine --verbose).
     */
    public void verbose(boolean verbose) {
        threshold = verbose ? Severity.kVERBOSE.value : WARNING;
    }

    @Override
    public void log(Severity severity, String message) {
        try { // the native side is noexcept: a Java exception must not escape
            int level = severity.value;
            if (level > threshold) {
                return;
            }
            if (level <= ERROR) {
                LOG.error("{}", message);
            } else if (level == WARNING) {
                LOG.warn("{}", message);
            } else {
                LOG.info("{}", message);
            }
        } catch (Throwable ignored) {
            // nowhere left to report it
        }
    }
}
