package io.flinktrt.jobs;

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
import io.flinktrt.text.TextModels;
import io.flinktrt.text.TextReference;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Raw text through the Kafka job, EXACTLY_ONCE, its operator as {@code run --tokenizer ... --top-k
 * 2 --labels ... --max-text-tokens 24} builds it: every text request gets the two most probable
 * labels of the classifier run directly on the tokenizer's ids (ONNX Runtime, one row at a time),
 * texts cut at the model's 16 tokens say so, and empty, missing and too-long texts are dead letters
 * with their codes, once each.
 */
@Timeout(180)
class TextKafkaITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.withSlots(2);

    @RegisterExtension static final KafkaBroker KAFKA = new KafkaBroker();

    private static final List<String> WORDS =
            List.of(
                    "the", "stream", "is", "good", "gpu", "kafka", "slow", "fast", "job", "love",
                    "hate", "model");

    @Test
    void textRequestsGetTheClassifiersTopLabelsAndBadTextsTheirCodes(@TempDir Path dir)
            throws Exception {
        Path tokenizer = TextModels.writeTokenizer(dir);
        Path classifier = TextModels.writeClassifier(dir);
        Path labels = TextModels.writeLabels(dir);
        RunCommand flags = new RunCommand();
        new CommandLine(flags)
                .parseArgs(
                        "--model", classifier.toString(),
                        "--backend", "onnxruntime",
                        "--tokenizer", tokenizer.toString(),
                        "--top-k", "2",
                        "--labels", labels.toString(),
                        "--max-text-tokens", "24",
                        "--max-batch", "8");
        Random random = new Random(22);
        Map<String, String> texts = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            StringBuilder text = new StringBuilder();
            int words = 1 + random.nextInt(18); // up to 20 tokens: some cut at 16, none over 24
            for (int w = 0; w < words; w++) {
                text.append(w == 0 ? "" : " ").append(WORDS.get(random.nextInt(WORDS.size())));
            }
            texts.put("t" + i, text.toString());
        }
        Map<String, ErrorCode> bad =
                Map.of(
                        "empty",
                        ErrorCode.EMPTY_TEXT,
                        "missing",
                        ErrorCode.MISSING_TEXT,
                        "long",
                        ErrorCode.TEXT_TOO_LONG);

        Map<String, OutcomeReader.Outcome> outcomes;
        try (KafkaJobHarness run =
                new KafkaJobHarness(
                        KAFKA,
                        "text",
                        2,
                        InferenceFunction.builder()
                                .fromConfiguration(flags.inference.toConfiguration()),
                        job ->
                                job.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                                        .setTransactionalIdPrefix("text"))) {
            for (Map.Entry<String, String> text : texts.entrySet()) {
                run.producer.send(
                        new InferenceRequest(
                                text.getKey(), Map.of(), List.of(), text.getValue(), null));
            }
            run.producer.send(new InferenceRequest("empty", Map.of(), List.of(), "", null));
            run.producer.send(new InferenceRequest("missing", Map.of(), List.of(), null, null));
            run.producer.send(
                    new InferenceRequest(
                            "long",
                            Map.of(),
                            List.of(),
                            String.join(" ", WORDS)
                                    + " "
                                    + String.join(" ", WORDS)
                                    + " "
                                    + String.join(" ", WORDS),
                            null));
            run.producer.flush();
            outcomes = run.readOutcomes(texts.size() + bad.size(), Duration.ofSeconds(120));
        }

        assertThat(outcomes).hasSize(texts.size() + bad.size());
        bad.forEach(
                (id, code) -> {
                    assertThat(outcomes.get(id).failure()).as(id).isNotNull();
                    assertThat(outcomes.get(id).failure().getCode()).as(id).isEqualTo(code);
                });
        int truncated = 0;
        try (TextReference reference = new TextReference(tokenizer, classifier)) {
            for (Map.Entry<String, String> text : texts.entrySet()) {
                InferenceResult result = outcomes.get(text.getKey()).result();
                assertThat(result).as(text.getKey()).isNotNull();
                List<Map.Entry<String, Float>> expected =
                        reference.ranked(text.getValue()).subList(0, 2);
                List<LabelScore> labelScores = new ArrayList<>(result.getLabels());
                assertThat(labelScores).as(text.getValue()).hasSize(2);
                for (int k = 0; k < 2; k++) {
                    assertThat(labelScores.get(k).getLabel())
                            .as(text.getValue())
                            .isEqualTo(expected.get(k).getKey());
                    assertThat(labelScores.get(k).getScore())
                            .as(text.getValue())
                            .isCloseTo(expected.get(k).getValue(), within(1e-5f));
                }
                boolean cut = reference.encode(text.getValue()).exceedMaxLength();
                assertThat(result.getTruncated()).as(text.getValue()).isEqualTo(cut);
                truncated += cut ? 1 : 0;
            }
        }
        System.out.printf(
                "text through Kafka: %d texts answered (%d cut at %d tokens), %d dead letters%n",
                texts.size(), truncated, TextModels.SEQUENCE, bad.size());
        assertThat(truncated).as("texts cut at the model's length").isPositive();
    }
}
