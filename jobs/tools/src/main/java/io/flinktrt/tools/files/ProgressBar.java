package io.flinktrt.tools.files;

import java.io.PrintWriter;

/** A one-line progress bar, redrawn in place (carriage return) at most a few times a second. */
public final class ProgressBar {

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final String unit;
    private final long total;
    private final long startNanos = System.nanoTime();
    private long lastDrawNanos;

    public ProgressBar(PrintWriter out, String unit, long total) {
        this.out = out;
        this.unit = unit;
        this.total = total;
    }

    public void update(long done) {
        long now = System.nanoTime();
        if (now - lastDrawNanos >= REDRAW_NANOS) {
            lastDrawNanos = now;
            draw(done, now);
        }
    }

    /** Draws the final state and ends the line. */
    public void finish(long done) {
        draw(done, System.nanoTime());
        out.println();
        out.flush();
    }

    private void draw(long done, long now) {
        int filled = total == 0 ? WIDTH : (int) (WIDTH * done / total);
        double seconds = (now - startNanos) / 1e9;
        out.printf(
                "\r[%s%s] %d/%d %s, %.0f/s ",
                "#".repeat(filled),
                "-".repeat(WIDTH - filled),
                done,
                total,
                unit,
                seconds > 0 ? done / seconds : 0.0);
        out.flush();
    }
}
