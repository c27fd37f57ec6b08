package io.flinktrt.tools.bench;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.batching.BatchListener;
import io.flinktrt.batching.BatchScheduler;
import io.flinktrt.batching.BatchingConfig;
import io.flinktrt.batching.RowCodec;
import io.flinktrt.text.PendingText;
import io.flinktrt.text.TextAnswers;
import io.flinktrt.text.TextTokenizer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Texts of mixed lengths through the scheduler and a runner, as the operator runs them (tokenized
 * on the copy threads, at most 4 x max batch in flight, as Flink's async capacity bounds it):
 * texts/s, rows per batch and padding. Run once on a plan of one fixed length and once on a plan
 * built with --sequence-lengths to see what batching by length gains. The texts are words drawn at
 * random, the same set each run (seeded), their token counts log-normal with a median of 24 and a
 * 99th percentile of 128 (sigma 0.72), cut at the model's length. On the GPU host: {@code
 * scripts/gpu-bench.sh text-lengths}.
 *
 * <pre>java -cp 'lib/*' io.flinktrt.tools.bench.TextLengths MODEL TOKENIZER [TEXTS] [MAX_BATCH]
 *     [SEQUENCE_LENGTHS|-]</pre>
 */
public final class TextLengths {

    private static final List<String> WORDS =
            List.of(
                    "the",
                    "stream",
                    "flink",
                    "model",
                    "gpu",
                    "batch",
                    "token",
                    "kafka",
                    "job",
                    "fast",
                    "slow",
                    "good",
                    "bad",
                    "text",
                    "answer",
                    "question",
                    "run",
                    "is",
                    "was",
                    "not",
                    "very",
                    "great",
                    "love",
                    "and",
                    "or",
                    "but",
                    "it",
                    "you",
                    "i",
                    ".");

    private TextLengths() {}

    public static void main(String[] args) throws Exception {
        TextBenchArgs given = TextBenchArgs.parse(args, "TextLengths", "");
        Backends.Selection selection = Backends.select(Backends.AUTO, given.model());
        try (ModelRunner runner = selection.backend().open(given.runnerConfig(3))) {
            TextTokenizer tokenizer =
                    TextTokenizer.open(given.tokenizer(), runner.signature(), 0, "max-text-tokens");
            System.out.printf(
                    "model %s on %s, max batch %d, sequence lengths %s%n",
                    given.model().getFileName(),
                    runner.backendName(),
                    given.maxBatch(),
                    runner.signature().sequence().varies()
                            ? runner.signature().sequence().lengths()
                            : "fixed at " + tokenizer.sequenceLength());
            run(
                    runner,
                    tokenizer,
                    null,
                    texts(Math.min(given.texts(), 5_000), 1),
                    given.maxBatch(),
                    false);
            System.out.println(
                    run(runner, tokenizer, null, texts(given.texts(), 2), given.maxBatch(), false)
                            .describe());
        }
    }

    /**
     * Texts of log-normal token counts (median 24, 99th percentile 128: sigma = ln(128 / 24) /
     * 2.326); a word is one token here, and [CLS] and [SEP] are two more.
     */
    static List<String> texts(int count, long seed) {
        Random random = new Random(seed);
        double sigma = Math.log(128.0 / 24) / 2.326;
        List<String> texts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long tokens = Math.round(Math.exp(Math.log(24) + sigma * random.nextGaussian()));
            int words = (int) Math.max(1, Math.min(200, tokens - 2));
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < words; w++) {
                text.append(w == 0 ? "" : " ").append(WORDS.get(random.nextInt(WORDS.size())));
            }
            texts.add(text.toString());
        }
        return texts;
    }

    /** One pass of texts through the scheduler: how long it took and what its batches ran as. */
    record Run(int texts, double seconds, Stats stats) {

        double textsPerSecond() {
            return texts / seconds;
        }

        String describe() {
            return String.format(
                    "%d texts in %.2f s: %.0f texts/s, %.0f real tokens/s; %d batches, %.1f rows a"
                            + " batch; padding: %.1f%% of rows, %.1f%% of the real rows' positions;"
                            + " rows per length %s",
                    texts,
                    seconds,
                    textsPerSecond(),
                    stats.tokens.get() / seconds,
                    stats.batches.get(),
                    (double) stats.rows.get() / stats.batches.get(),
                    100.0
                            * (stats.executedRows.get() - stats.rows.get())
                            / stats.executedRows.get(),
                    stats.positions.get() == 0
                            ? 0.0
                            : 100.0
                                    * (stats.positions.get() - stats.tokens.get())
                                    / stats.positions.get(),
                    stats.rowsPerLength);
        }
    }

    /**
     * {@code texts} through the scheduler and {@code runner}. With {@code tokensReady} every text
     * is tokenized before the clock starts, so the batches are fed ids (tokenizing costs them
     * nothing); else the copy threads tokenize, as the operator's do. {@code answers} (null: none)
     * are read from each row as the operator reads them.
     */
    static Run run(
            ModelRunner runner,
            TextTokenizer tokenizer,
            TextAnswers answers,
            List<String> texts,
            int maxBatch,
            boolean tokensReady)
            throws InterruptedException {
        List<PendingText> pending = texts.stream().map(PendingText::new).toList();
        if (tokensReady) {
            pending.forEach(text -> text.tokens(tokenizer));
        }
        Semaphore inFlight = new Semaphore(4 * maxBatch);
        Stats stats = new Stats(tokenizer.sequenceLength());
        RowCodec<PendingText, Boolean> codec =
                tokenizer.rows(
                        (tokens, buffers, row, batch) -> {
                            stats.tokens.addAndGet(tokens.ids().length);
                            if (answers != null) {
                                answers.answer(buffers, row, tokens.attentionMask());
                            }
                            return Boolean.TRUE;
                        });
        long start = System.nanoTime();
        try (BatchScheduler<PendingText, Boolean> scheduler =
                new BatchScheduler<>(
                        runner,
                        codec,
                        new BatchingConfig("text-lengths", maxBatch, Duration.ofMillis(5)),
                        stats)) {
            for (PendingText text : pending) {
                inFlight.acquire();
                scheduler.submit(text).whenComplete((ok, e) -> inFlight.release());
            }
            inFlight.acquire(4 * maxBatch); // every text answered
        }
        return new Run(texts.size(), (System.nanoTime() - start) / 1e9, stats);
    }

    /** What the batches ran as; a plan of one length runs every row at {@code fixedLength}. */
    static final class Stats implements BatchListener {
        final int fixedLength;
        final AtomicLong batches = new AtomicLong();
        final AtomicLong rows = new AtomicLong();
        final AtomicLong executedRows = new AtomicLong();
        final AtomicLong tokens = new AtomicLong();
        final AtomicLong positions = new AtomicLong();
        final Map<Integer, Long> rowsPerLength = new TreeMap<>();

        Stats(int fixedLength) {
            this.fixedLength = fixedLength;
        }

        @Override
        public synchronized void batchDone(BatchRun run) {
            batches.incrementAndGet();
            rows.addAndGet(run.rows());
            executedRows.addAndGet(run.executedRows());
            int length = run.executedLength() > 0 ? run.executedLength() : fixedLength;
            positions.addAndGet((long) run.rows() * length);
            rowsPerLength.merge(length, (long) run.rows(), Long::sum);
        }
    }
}
