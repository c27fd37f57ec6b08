package io.flinktrt.tools.bench;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench's plots are drawn without a display, as on a server. */
class PlotTest {

    private static final byte[] PNG_SIGNATURE = {
        (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
    };

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void savesAPngAndTheDataPlotsFromDrawsItAgain(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("m-latency.png");
        new Plot("Latency at fixed load, m (tensorrt)", "percentile", "ms", true)
                .line(
                        "operator, 50% load (1,000/s)",
                        new double[] {50, 90, 99, 99.9}, new double[] {4.1, 5.0, 7.5, 9.9})
                .line("Kafka job", new double[] {50, 90, 99, 99.9}, new double[] {6, 8, 12, 20})
                .save(png);

        assertIsAChart(png);
        assertThat(dir.resolve("m-latency.plot.txt"))
                .hasContent(
                        String.join(
                                "\n",
                                "Latency at fixed load, m (tensorrt)",
                                "percentile",
                                "ms",
                                "true",
                                "operator, 50% load (1,000/s)",
                                "50.0 90.0 99.0 99.9",
                                "4.1 5.0 7.5 9.9",
                                "Kafka job",
                                "50.0 90.0 99.0 99.9",
                                "6.0 8.0 12.0 20.0"));

        Files.delete(png);
        Plot.drawAll(dir);
        assertIsAChart(png);
    }

    private static void assertIsAChart(Path png) throws IOException {
        byte[] bytes = Files.readAllBytes(png);
        assertThat(Arrays.copyOf(bytes, PNG_SIGNATURE.length)).isEqualTo(PNG_SIGNATURE);
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(900);
        assertThat(image.getHeight()).isEqualTo(560);
        assertThat(Arrays.stream(image.getRGB(0, 0, 900, 560, null, 0, 900)).distinct().count())
                .as("colours: more than a blank image")
                .isGreaterThan(10);
    }
}
