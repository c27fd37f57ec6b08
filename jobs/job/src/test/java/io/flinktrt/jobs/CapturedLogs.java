package io.flinktrt.jobs;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Collects what every logger of this JVM (Flink and Kafka included) writes at WARN and above while
 * open, but Flink's metric registry: it warns of name collisions once per subtask of the Kafka
 * sink's committer, whatever the input.
 */
final class CapturedLogs implements AutoCloseable {

    private static final String NAME = "captured-warnings";
    private static final String METRICS = "org.apache.flink.metrics";

    private final List<LogEvent> events = new CopyOnWriteArrayList<>();
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final AbstractAppender appender =
            new AbstractAppender(NAME, null, null, true, Property.EMPTY_ARRAY) {
                @Override
                public void append(LogEvent event) {
                    if (!event.getLoggerName().startsWith(METRICS)) {
                        events.add(event.toImmutable());
                    }
                }
            };

    CapturedLogs() {
        appender.start();
        context.getConfiguration().getRootLogger().addAppender(appender, Level.WARN, null);
        context.updateLoggers();
    }

    List<LogEvent> warnings() {
        return List.copyOf(events);
    }

    /** The lines as they would print, with the class of any exception attached. */
    List<String> describe() {
        return events.stream()
                .map(
                        e ->
                                e.getLevel()
                                        + " "
                                        + e.getLoggerName()
                                        + " - "
                                        + e.getMessage().getFormattedMessage()
                                        + (e.getThrown() == null ? "" : " [" + e.getThrown() + "]"))
                .toList();
    }

    @Override
    public void close() {
        context.getConfiguration().getRootLogger().removeAppender(NAME);
        context.updateLoggers();
        appender.stop();
    }
}
