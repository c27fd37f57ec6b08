package io.flinktrt.tools.bench;

import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.tensorrt.plan.BatchBuckets;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The arguments the text benches share: {@code MODEL TOKENIZER [TEXTS=50000] [MAX_BATCH=128]
 * [SEQUENCE_LENGTHS|-]}, then the tool's own ({@code rest}).
 *
 * @param lengths empty: the plan's own (or a model of one length)
 */
record TextBenchArgs(
        Path model,
        String tokenizer,
        int texts,
        int maxBatch,
        List<Integer> lengths,
        String[] rest) {

    /** The runner's configuration: device 0, {@code buffers} buffer sets, no backend option. */
    ModelConfig runnerConfig(int buffers) {
        return new ModelConfig(model, 0, maxBatch, buffers, Map.of(), lengths);
    }

    /** Prints the usage and exits where {@code args} ask for it or are too few. */
    static TextBenchArgs parse(String[] args, String tool, String moreUsage) {
        if (args.length < 2 || args[0].equals("--help")) {
            System.out.println(
                    "usage: "
                            + tool
                            + " MODEL TOKENIZER [TEXTS=50000] [MAX_BATCH=128]"
                            + " [SEQUENCE_LENGTHS e.g. 16,32,64,128, or - for the plan's own]"
                            + moreUsage);
            System.exit(args.length < 2 ? 2 : 0);
        }
        return new TextBenchArgs(
                Path.of(args[0]),
                args[1],
                args.length > 2 ? Integer.parseInt(args[2]) : 50_000,
                args.length > 3 ? Integer.parseInt(args[3]) : 128,
                args.length > 4 && !args[4].equals("-")
                        ? BatchBuckets.parseLengths(args[4])
                        : List.of(),
                args.length > 5
                        ? List.of(args).subList(5, args.length).toArray(String[]::new)
                        : new String[0]);
    }
}
