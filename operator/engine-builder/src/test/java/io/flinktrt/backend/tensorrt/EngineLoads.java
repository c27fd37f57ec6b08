package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.tensorrt.runtime.Engine;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the TensorRT engines this JVM deserializes while open, from the line {@link Engine} logs
 * once per load: an open that logs none shared a loaded engine, a reopen that logs one proves the
 * last runner's close released it (what the cluster step of scripts/gpu-bench.sh counts too).
 */
public final class EngineLoads implements AutoCloseable {

    private static final String NAME = "engine-loads";

    private final AtomicInteger loads = new AtomicInteger();
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final AbstractAppender appender =
            new AbstractAppender(NAME, null, null, true, Property.EMPTY_ARRAY) {
                @Override
                public void append(LogEvent event) {
                    if (event.getLoggerName().equals(Engine.class.getName())
                            && event.getMessage()
                                    .getFormattedMessage()
                                    .startsWith("Deserialized the TensorRT engine")) {
                        loads.incrementAndGet();
                    }
                }
            };

    public EngineLoads() {
        appender.start();
        context.getConfiguration().getRootLogger().addAppender(appender, Level.INFO, null);
        context.updateLoggers();
    }

    public int count() {
        return loads.get();
    }

    @Override
    public void close() {
        context.getConfiguration().getRootLogger().removeAppender(NAME);
        context.updateLoggers();
        appender.stop();
    }
}
