package io.flinktrt.backend.tensorrt;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelConfig;
import io.flinktrt.backend.ModelRunner;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.build.EngineBuilder;
import io.flinktrt.backend.tensorrt.plan.PlanMetadata;
import io.flinktrt.onnx.Onnx;
import io.flinktrt.onnx.TestGraphs;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * build-engine --strongly-typed on a model that is FP16 inside (float32 in and out, cast to float16
 * around two FP16 layers): the plan says it is strongly typed, and its answers equal ONNX Runtime's
 * on the float32 twin of the model (the same weights, all exact in float16) within FP16's
 * precision. Needs a GPU (tag gpu; docs/gpu.md).
 */
@Tag("gpu")
class StronglyTypedGpuTest {

    private static final int IN = 16;
    private static final int HIDDEN = 32;
    private static final int OUT = 10;

    @TempDir Path dir;

    @Test
    void anFp16ModelBuiltStronglyTypedGivesTheFloat32TwinsAnswers() throws Exception {
        GpuTestSupport.requireTensorRt();
        Random random = new Random(24);
        float[] w1 = exactHalves(random, IN * HIDDEN);
        float[] b1 = exactHalves(random, HIDDEN);
        float[] w2 = exactHalves(random, HIDDEN * OUT);
        float[] b2 = exactHalves(random, OUT);
        Path fp16 = dir.resolve("mlp-fp16.onnx");
        Files.write(fp16, mlp(true, w1, b1, w2, b2));
        byte[] twin = mlp(false, w1, b1, w2, b2);
        Path plan = dir.resolve("mlp-fp16.plan");
        EngineBuilder.build(
                BuildOptions.builder(fp16, plan)
                        .setStronglyTyped(true)
                        .setBatchBuckets(List.of(1, 8))
                        .setWorkspaceMiB(1024)
                        .build(),
                System.out::println);
        assertThat(PlanMetadata.read(PlanMetadata.sidecarOf(plan)).flags().stronglyTyped())
                .isTrue();

        int rows = 8;
        float[] x = new float[rows * IN];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] want = onnxRuntime(twin, x, rows);
        float[] got = new float[rows * OUT];
        try (ModelRunner runner =
                new TensorRtBackend().open(new ModelConfig(plan, 0, rows, 1, Map.of()))) {
            BatchBuffers buffers = runner.acquire();
            try {
                buffers.input(0).asFloatBuffer().put(x);
                buffers.run(rows).get();
                buffers.output(0).asFloatBuffer().get(got);
            } finally {
                buffers.release();
            }
        }
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double diff = Math.abs(got[i] - want[i]);
            worst = Math.max(worst, diff);
            assertThat(diff)
                    .as("y[%d]: %s vs %s", i, got[i], want[i])
                    .isLessThanOrEqualTo(2e-2 + 1e-2 * Math.abs(want[i]));
        }
        System.out.printf("strongly typed FP16 MLP: max |diff| against float32 %.5f%n", worst);
    }

    /** Multiples of 1/64 in -1..1: exact in float16. */
    private static float[] exactHalves(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (random.nextInt(129) - 64) / 64f;
        }
        return values;
    }

    /** x [N,16] -> relu(x W1 + b1) W2 + b2 -> y [N,10]; with {@code half}, FP16 inside. */
    private static byte[] mlp(boolean half, float[] w1, float[] b1, float[] w2, float[] b2) {
        TestGraphs graph = new TestGraphs();
        graph.input("x", Onnx.FLOAT, "N", IN).output("y", Onnx.FLOAT, "N", OUT);
        String in = "x";
        String out = "y";
        if (half) {
            graph.halves("w1", w1, IN, HIDDEN)
                    .halves("b1", b1, HIDDEN)
                    .halves("w2", w2, HIDDEN, OUT)
                    .halves("b2", b2, OUT)
                    .cast("to_half", "x", "x16", Onnx.FLOAT16)
                    .cast("to_float", "y16", "y", Onnx.FLOAT);
            in = "x16";
            out = "y16";
        } else {
            graph.floats("w1", w1, IN, HIDDEN)
                    .floats("b1", b1, HIDDEN)
                    .floats("w2", w2, HIDDEN, OUT)
                    .floats("b2", b2, OUT);
        }
        return graph.node("mm1", "MatMul", List.of(in, "w1"), List.of("h"))
                .node("add1", "Add", List.of("h", "b1"), List.of("hb"))
                .node("relu", "Relu", List.of("hb"), List.of("r"))
                .node("mm2", "MatMul", List.of("r", "w2"), List.of("o"))
                .node("add2", "Add", List.of("o", "b2"), List.of(out))
                .model();
    }

    private static float[] onnxRuntime(byte[] model, float[] x, int rows) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
                OnnxTensor input =
                        OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {rows, IN});
                OrtSession.Result result = session.run(Map.of("x", input))) {
            FloatBuffer y = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] values = new float[y.remaining()];
            y.get(values);
            return values;
        }
    }
}
