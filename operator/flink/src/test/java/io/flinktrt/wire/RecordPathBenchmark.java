package io.flinktrt.wire;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.BatchRun;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.DataType;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.schema.InferenceResult;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The CPU side of one record in the operator, with the real classes: Avro bytes to a checked
 * request, the request into a direct batch buffer, a result row out to an outcome (and to the Avro
 * bytes the sink writes). Run by hand, not by surefire; see docs/benchmarks-cpu.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RecordPathBenchmark {

    /**
     * Rows of the batch buffers; a ResNet-sized batch of 32 is 19 MB, more than the caches hold.
     */
    private static final int BATCH_ROWS = 32;

    private static final RequestLimits DEFAULT_LIMITS =
            new RequestLimits(
                    16 << 20,
                    64,
                    16L << 20,
                    true,
                    1_048_588 - 89,
                    1_048_588 - 89); // the job's defaults on Kafka's default topics

    static final ModelSignature RESNET_SIZED =
            new ModelSignature(
                    "resnet-sized",
                    "",
                    List.of(new TensorSpec("images", DataType.FLOAT32, new long[] {3, 224, 224})),
                    List.of(new TensorSpec("logits", DataType.FLOAT32, new long[] {1000})),
                    BATCH_ROWS);
    static final ModelSignature BERT_SIZED =
            new ModelSignature(
                    "bert-sized",
                    "",
                    List.of(
                            new TensorSpec("input_ids", DataType.INT64, new long[] {128}),
                            new TensorSpec("attention_mask", DataType.INT64, new long[] {128})),
                    List.of(new TensorSpec("logits", DataType.FLOAT32, new long[] {2})),
                    BATCH_ROWS);

    private byte[] resnetPayload;
    private byte[] bertPayload;
    private RequestDecoder resnetDecoder;
    private RequestDecoder bertDecoder;
    private DecodedRequest resnetRequest;
    private DecodedRequest bertRequest;
    private DirectBatch resnetBatch;
    private DirectBatch bertBatch;
    private ResultEncoder resultEncoder;
    private PendingRequest resnetPending;
    private AvroCodec<InferenceResult> resultCodec;
    private int row;

    @Setup
    public void setUp() throws RequestRejectedException {
        AvroCodec<InferenceRequest> requests = new AvroCodec<>(InferenceRequest.class);
        resnetPayload = requests.encode(new RandomRequests(RESNET_SIZED, 100, 1).next("resnet-0"));
        bertPayload = requests.encode(new RandomRequests(BERT_SIZED, 30_000, 2).next("bert-0"));
        resnetDecoder = RequestDecoderTest.decoder(RESNET_SIZED, DEFAULT_LIMITS);
        bertDecoder = RequestDecoderTest.decoder(BERT_SIZED, DEFAULT_LIMITS);
        resnetRequest = resnetDecoder.decode(resnetPayload);
        bertRequest = bertDecoder.decode(bertPayload);
        resnetBatch = new DirectBatch(RESNET_SIZED);
        bertBatch = new DirectBatch(BERT_SIZED);
        ByteBuffer logits = resnetBatch.output(0);
        for (int i = 0; i < logits.capacity() / Float.BYTES; i++) {
            logits.putFloat(i * Float.BYTES, i * 0.001f);
        }
        resultEncoder =
                new ResultEncoder(
                        RESNET_SIZED,
                        "bench",
                        new ServedModel("bench", ServedModel.NO_VERSION),
                        null);
        resnetPending = new PendingRequest(resnetRequest, 0);
        resultCodec = new AvroCodec<>(InferenceResult.class);
    }

    @Benchmark
    public DecodedRequest decodeResnetSizedRequest() throws RequestRejectedException {
        return resnetDecoder.decode(resnetPayload);
    }

    @Benchmark
    public DecodedRequest decodeBertSizedRequest() throws RequestRejectedException {
        return bertDecoder.decode(bertPayload);
    }

    @Benchmark
    public ByteBuffer copyResnetSizedRequestIntoBatch() {
        row = (row + 1) % BATCH_ROWS;
        AvroRequestTranslator.putRow(RESNET_SIZED, resnetRequest, resnetBatch, row);
        return resnetBatch.input(0);
    }

    @Benchmark
    public ByteBuffer copyBertSizedRequestIntoBatch() {
        row = (row + 1) % BATCH_ROWS;
        AvroRequestTranslator.putRow(BERT_SIZED, bertRequest, bertBatch, row);
        return bertBatch.input(0);
    }

    /** One result of 1000 floats cut out of the batch's output buffer. */
    @Benchmark
    public InferenceOutcome encodeResultOf1000Floats() {
        row = (row + 1) % BATCH_ROWS;
        return resultEncoder.encode(
                resnetPending,
                row,
                resnetBatch,
                new BatchRun(BATCH_ROWS, BATCH_ROWS, 1000),
                0,
                1000);
    }

    /** The same, plus the Avro bytes the Kafka sink writes for it (OutcomeSerializer). */
    @Benchmark
    public byte[] encodeResultOf1000FloatsToAvro() {
        row = (row + 1) % BATCH_ROWS;
        InferenceOutcome outcome =
                resultEncoder.encode(
                        resnetPending,
                        row,
                        resnetBatch,
                        new BatchRun(BATCH_ROWS, BATCH_ROWS, 1000),
                        0,
                        1000);
        return resultCodec.encode((InferenceResult) outcome.getOutcome());
    }

    /** Direct little-endian buffers, as a backend hands out; nothing runs. */
    static final class DirectBatch implements BatchBuffers {
        private final ByteBuffer[] inputs;
        private final ByteBuffer[] outputs;

        DirectBatch(ModelSignature signature) {
            inputs =
                    signature.inputs().stream()
                            .map(s -> direct(s.sampleBytes()))
                            .toArray(ByteBuffer[]::new);
            outputs =
                    signature.outputs().stream()
                            .map(s -> direct(s.sampleBytes()))
                            .toArray(ByteBuffer[]::new);
        }

        private static ByteBuffer direct(int sampleBytes) {
            return ByteBuffer.allocateDirect(BATCH_ROWS * sampleBytes)
                    .order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public ByteBuffer input(int index) {
            return inputs[index];
        }

        @Override
        public CompletableFuture<BatchRun> run(int rows) {
            return CompletableFuture.completedFuture(new BatchRun(rows, rows, 0));
        }

        @Override
        public ByteBuffer output(int index) {
            return outputs[index];
        }

        @Override
        public void release() {}
    }
}
