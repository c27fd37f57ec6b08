package io.flinktrt.tools.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.awt.AWTError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Line charts as PNG, drawn by XChart. Each plot's data is also saved as text next to it, so a host
 * whose JRE cannot render fonts (a bare GPU host: XChart draws with Java2D, which needs the font
 * libraries) still leaves something {@code bench --plots-from} turns into the PNG elsewhere.
 */
public final class Plot {

    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;

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
        XYChart chart =
                new XYChartBuilder()
                        .width(WIDTH)
                        .height(HEIGHT)
                        .title(title)
                        .xAxisTitle(xLabel)
                        .yAxisTitle(yLabel)
                        .build();
        DoubleSummaryStatistics xs =
                series.values().stream()
                        .flatMapToDouble(points -> Arrays.stream(points[0]))
                        .summaryStatistics();
        // XChart labels a log axis at powers of ten only: less than a decade (percentiles 50 to
        // 99.9) would show one label or none, so it is drawn linear.
        chart.getStyler()
                .setXAxisLogarithmic(logX && xs.getMax() >= 10 * xs.getMin())
                .setYAxisMin(0.0);
        series.forEach((name, points) -> chart.addSeries(name, points[0], points[1]));
        // Drawn whole before the file is opened: a JRE without fonts fails here, leaving no file.
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        Files.write(png, bytes);
    }
}
