package io.flinktrt.backend.tensorrt.build;

import java.util.function.Consumer;

/**
 * A line every 10 seconds while a build runs, so a minutes-long build does not look hung. (The 10.6
 * presets' IProgressMonitor has no constructor to subclass, so it cannot be implemented in Java.)
 */
final class BuildProgress implements AutoCloseable {

    private static final long INTERVAL_MILLIS = 10_000;

    private final Thread thread;

    BuildProgress(String what, Consumer<String> out) {
        long start = System.nanoTime();
        thread =
                new Thread(
                        () -> {
                            try {
                                while (true) {
                                    Thread.sleep(INTERVAL_MILLIS);
                                    out.accept(
                                            String.format(
                                                    "%s: %d s elapsed",
                                                    what,
                                                    (System.nanoTime() - start) / 1_000_000_000L));
                                }
                            } catch (InterruptedException done) {
                                // the build finished
                            }
                        },
                        "tensorrt-build-progress");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
