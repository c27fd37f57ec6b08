package io.flinktrt.tools.bench;

import javax.imageio.ImageIO;

import java.awt.AWTError;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Plain line charts as PNG, drawn with Java2D (no plotting library on the classpath). Each plot's
 * data is also saved as text next to it, so a host whose JRE cannot render fonts (a bare GPU host)
 * still leaves something {@code bench --plots-from} turns into the PNG elsewhere.
 */
public final class Plot {

    private static final Color[] COLORS = {
        new Color(0x1f77b4),
        new Color(0xff7f0e),
        new Color(0x2ca02c),
        new Color(0xd62728),
        new Color(0x9467bd)
    };
    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;
    private static final int MARGIN = 80;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final boolean logX;
    private final Map<String, double[][]> series = new LinkedHashMap<>();

    Plot(String title, String xLabel, String yLabel, boolean logX) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logX = logX;
    }

    /** A named line through the points {@code (xs[i], ys[i])}. */
    Plot line(String name, double[] xs, double[] ys) {
        series.put(name, new double[][] {xs, ys});
        return this;
    }

    /**
     * Writes {@code png}'s data as {@code .plot.txt}, then the PNG itself if this JRE can draw
     * text.
     */
    void save(Path png) throws IOException {
        Path data = png.resolveSibling(png.getFileName().toString().replace(".png", ".plot.txt"));
        List<String> lines = new ArrayList<>(List.of(title, xLabel, yLabel, String.valueOf(logX)));
        series.forEach(
                (name, points) -> {
                    lines.add(name);
                    lines.add(
                            Arrays.stream(points[0])
                                    .mapToObj(String::valueOf)
                                    .collect(Collectors.joining(" ")));
                    lines.add(
                            Arrays.stream(points[1])
                                    .mapToObj(String::valueOf)
                                    .collect(Collectors.joining(" ")));
                });
        Files.write(data, lines);
        try {
            write(png);
        } catch (LinkageError | AWTError | InternalError e) {
            System.out.println(
                    "Plot "
                            + png.getFileName()
                            + " not drawn here ("
                            + e
                            + "); its data is in "
                            + data.getFileName()
                            + ": run `flink-tensorrt bench --plots-from "
                            + png.getParent()
                            + "` where fonts are installed.");
        }
    }

    /** Draws the PNG of every {@code .plot.txt} in {@code dir}. */
    public static void drawAll(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path data :
                    files.filter(f -> f.toString().endsWith(".plot.txt")).sorted().toList()) {
                List<String> lines = Files.readAllLines(data);
                Plot plot =
                        new Plot(
                                lines.get(0),
                                lines.get(1),
                                lines.get(2),
                                Boolean.parseBoolean(lines.get(3)));
                for (int i = 4; i + 2 < lines.size(); i += 3) {
                    plot.line(lines.get(i), numbers(lines.get(i + 1)), numbers(lines.get(i + 2)));
                }
                Path png =
                        data.resolveSibling(
                                data.getFileName().toString().replace(".plot.txt", ".png"));
                plot.write(png);
                System.out.println("Wrote " + png);
            }
        }
    }

    private static double[] numbers(String line) {
        return Arrays.stream(line.trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
    }

    private void write(Path png) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        double minX = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double maxY = 0;
        for (double[][] s : series.values()) {
            for (int i = 0; i < s[0].length; i++) {
                minX = Math.min(minX, x(s[0][i]));
                maxX = Math.max(maxX, x(s[0][i]));
                maxY = Math.max(maxY, s[1][i]);
            }
        }
        maxX = maxX == minX ? minX + 1 : maxX;
        maxY = maxY == 0 ? 1 : maxY * 1.1;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, MARGIN, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawLine(MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN);
        g.drawLine(MARGIN, MARGIN, MARGIN, HEIGHT - MARGIN);
        g.drawString(xLabel, WIDTH / 2 - 40, HEIGHT - 30);
        g.drawString(yLabel, 10, MARGIN - 15);
        for (int tick = 0; tick <= 5; tick++) {
            double y = maxY * tick / 5;
            int py = py(y, maxY);
            g.setColor(new Color(0xdddddd));
            g.drawLine(MARGIN, py, WIDTH - MARGIN, py);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%,.0f", y), 5, py + 4);
        }
        int index = 0;
        for (Map.Entry<String, double[][]> entry : series.entrySet()) {
            double[][] s = entry.getValue();
            g.setColor(COLORS[index % COLORS.length]);
            g.setStroke(new BasicStroke(2));
            for (int i = 0; i < s[0].length; i++) {
                int px = px(x(s[0][i]), minX, maxX);
                int py = py(s[1][i], maxY);
                g.fillOval(px - 4, py - 4, 8, 8);
                if (i > 0) {
                    g.drawLine(px(x(s[0][i - 1]), minX, maxX), py(s[1][i - 1], maxY), px, py);
                }
                if (index == 0) {
                    g.setColor(Color.BLACK);
                    g.drawString(String.format("%,.0f", s[0][i]), px - 8, HEIGHT - MARGIN + 18);
                    g.setColor(COLORS[index % COLORS.length]);
                }
            }
            g.drawString(entry.getKey(), WIDTH - MARGIN - 220, MARGIN + 18 * index);
            index++;
        }
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }

    private double x(double value) {
        return logX ? Math.log(Math.max(value, 1e-9)) : value;
    }

    private static int px(double x, double minX, double maxX) {
        return (int) (MARGIN + (x - minX) / (maxX - minX) * (WIDTH - 2 * MARGIN));
    }

    private static int py(double y, double maxY) {
        return (int) (HEIGHT - MARGIN - y / maxY * (HEIGHT - 2 * MARGIN));
    }
}
