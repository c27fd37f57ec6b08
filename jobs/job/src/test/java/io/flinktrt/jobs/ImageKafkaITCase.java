package io.flinktrt.jobs;

import io.flinktrt.image.ImageReference;
import io.flinktrt.image.TestImages;
import io.flinktrt.jobs.cli.RunCommand;
import io.flinktrt.jobs.kafka.KafkaBroker;
import io.flinktrt.jobs.kafka.KafkaJobHarness;
import io.flinktrt.jobs.kafka.OutcomeReader;
import io.flinktrt.operator.InferenceFunction;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;
import io.flinktrt.schema.LabelScore;
import io.flinktrt.testing.MiniClusters;
import io.flinktrt.testing.TestModels;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * JPEG and PNG photos through the Kafka job, EXACTLY_ONCE, its operator as {@code run --image-mean
 * ... --image-std ... --top-k 2 --labels ...} builds it: every photo gets the two most probable
 * labels of the model run directly (ONNX Runtime, one image at a time) on the CPU decoder's
 * normalised pixels, and each bad image is a dead letter with its code, once.
 */
@Timeout(180)
class ImageKafkaITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(2);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private static final List<String> CHANNELS = List.of("red", "green", "blue");
    private static final List<Float> MEAN = List.of(0.5f, 0.4f, 0.3f);
    private static final List<Float> STD = List.of(0.25f, 0.2f, 0.3f);

    @Test
    void photosGetTheModelsTopLabelsAndBadImagesTheirCodes(@TempDir Path dir) throws Exception {
        Path model = TestModels.path(TestModels.IMAGE_MEAN);
        Path labels = dir.resolve("channels.txt");
        Files.write(labels, CHANNELS);
        RunCommand flags = new RunCommand();
        new CommandLine(flags)
                .parseArgs(
                        "--model", model.toString(),
                        "--backend", "onnxruntime",
                        "--image-mean", "0.5,0.4,0.3",
                        "--image-std", "0.25, 0.2, 0.3",
                        "--top-k", "2",
                        "--labels", labels.toString(),
                        "--max-batch", "8");
        List<String> photos = new ArrayList<>(TestImages.PHOTOS);
        photos.addAll(
                List.of(
                        "progressive.jpg",
                        "grayscale.jpg",
                        "grayscale.png",
                        "exif-rotated.jpg",
                        "upright.png"));
        Map<String, ErrorCode> bad = TestImages.BAD;

        Map<String, OutcomeReader.Outcome> outcomes;
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "image",
                        2,
                        InferenceFunction.builder()
                                .fromConfiguration(flags.inference.toConfiguration()),
                        job ->
                                job.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                                        .setTransactionalIdPrefix("image"))) {
            List<String> all = new ArrayList<>(photos);
            for (String name : bad.keySet()) {
                all.add(all.size() / 3, name);
            }
            for (String name : all) {
                run.producer.send(
                        new InferenceRequest(
                                name, Map.of(), List.of(), null, TestImages.buffer(name)));
            }
            run.producer.flush();
            outcomes = run.readOutcomes(all.size(), Duration.ofSeconds(120));
        }

        assertThat(outcomes).hasSize(photos.size() + bad.size());
        bad.forEach(
                (id, code) -> {
                    assertThat(outcomes.get(id).failure()).as(id).isNotNull();
                    assertThat(outcomes.get(id).failure().getCode()).as(id).isEqualTo(code);
                });
        try (ImageReference reference = new ImageReference(model)) {
            for (String name : photos) {
                InferenceResult result = outcomes.get(name).result();
                assertThat(result).as(name).isNotNull();
                List<Map.Entry<String, Float>> expected =
                        ImageReference.ranked(reference.onPlanes(name, MEAN, STD), CHANNELS);
                List<LabelScore> top = result.getLabels();
                assertThat(top).as(name).hasSize(2);
                for (int k = 0; k < 2; k++) {
                    assertThat(top.get(k).getLabel()).as(name).isEqualTo(expected.get(k).getKey());
                    assertThat(top.get(k).getScore())
                            .as(name)
                            .isCloseTo(expected.get(k).getValue(), within(1e-5f));
                }
            }
        }
    }
}
