package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.backend.tensorrt.gpu.TestGpus;
import io.flinktrt.backend.tensorrt.plan.PlanTensors.BatchRange;
import io.flinktrt.schema.DataType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlanMetadataTest {

    private static final GpuInfo H100 =
            TestGpus.gpu(1, "NVIDIA H100 80GB HBM3", "9.0", 80L << 30, "10.6.0.26");

    @TempDir Path dir;

    @Test
    void roundTripsThroughJson() throws Exception {
        PlanMetadata metadata = metadata("abc", 3, false);
        Path file = dir.resolve("m.plan.json");
        metadata.write(file);
        PlanMetadata read = PlanMetadata.read(file);
        assertThat(read).usingRecursiveComparison().isEqualTo(metadata);
        Path again = dir.resolve("again.plan.json");
        read.write(again);
        assertThat(Files.readString(again)).isEqualTo(Files.readString(file));
        for (JsonNode tensor : new ObjectMapper().readTree(file.toFile()).get("tensors")) {
            assertThat(tensor.fieldNames())
                    .as("the first format's fields, so earlier readers read it")
                    .toIterable()
                    .containsExactly("name", "mode", "dtype", "shape", "profiles");
        }
        assertThat(Files.readString(file))
                .contains("\"shape\" : [ -1, 16 ]", "\"max\" : [ 8, 16 ]");
        assertThat(Files.readString(file))
                .contains("\"planSha256\" : \"abc\"", "\"tensorRtVersion\" : \"10.6.0.26\"");
        assertThat(PlanMetadata.sidecarOf(dir.resolve("m.plan"))).isEqualTo(file);
    }

    @Test
    void aSequenceAxisRoundTripsAsShapesWithTheLengthDynamic() throws Exception {
        PlanTensors text =
                new PlanTensors(
                        List.of(new TensorSpec("input_ids", DataType.INT64, new long[] {128})),
                        List.of(
                                new TensorSpec("hidden", DataType.FLOAT32, new long[] {-1, 8}),
                                new TensorSpec("pooled", DataType.FLOAT32, new long[] {8})),
                        List.of(new BatchRange(1, 8, 8, 1, 16), new BatchRange(1, 8, 8, 17, 128)),
                        java.util.Set.of("input_ids", "hidden"));
        Path file = dir.resolve("text.plan.json");
        metadata("abc", 3, false, List.of(), text).write(file);
        assertThat(PlanMetadata.read(file).tensors()).isEqualTo(text);
        assertThat(Files.readString(file))
                .contains("\"shape\" : [ -1, -1 ]", "\"max\" : [ 8, 16 ]", "\"min\" : [ 1, 17 ]")
                .contains("\"shape\" : [ -1, -1, 8 ]");
    }

    @Test
    void acceptsAPlanBuiltHere() {
        assertThatCode(
                        () ->
                                PlanCompatibility.check(
                                        metadata("abc", 1, false), H100, false, "m.plan"))
                .doesNotThrowAnyException();
    }

    @Test
    void namesBothSidesOfAMismatch() {
        GpuInfo otherTrt = TestGpus.gpu(1, "NVIDIA H100 80GB HBM3", "9.0", 0, "10.7.0.23");
        assertThatThrownBy(
                        () ->
                                PlanCompatibility.check(
                                        metadata("abc", 1, false), otherTrt, false, "m.plan"))
                .hasMessageContaining(
                        "built with TensorRT 10.6.0.26, this JVM loads TensorRT 10.7.0.23")
                .hasMessageContaining("Rebuild with build-engine");
        GpuInfo a100 = TestGpus.gpu(1, "NVIDIA A100-SXM4-80GB", "8.0", 0, "10.6.0.26");
        assertThatThrownBy(
                        () ->
                                PlanCompatibility.check(
                                        metadata("abc", 1, false), a100, false, "m.plan"))
                .hasMessageContaining("compute capability 9.0 (NVIDIA H100 80GB HBM3)")
                .hasMessageContaining("8.0 (NVIDIA A100-SXM4-80GB)");
        GpuInfo h100Pcie = TestGpus.gpu(1, "NVIDIA H100 PCIe", "9.0", 0, "10.6.0.26");
        assertThatThrownBy(
                        () ->
                                PlanCompatibility.check(
                                        metadata("abc", 1, false), h100Pcie, false, "m.plan"))
                .hasMessageContaining(
                        "tuned on NVIDIA H100 80GB HBM3, GPU 0 here is NVIDIA H100 PCIe");
    }

    @Test
    void refusesHostCodeUnlessAllowed() {
        PlanMetadata portable = metadata("abc", 1, true);
        assertThatThrownBy(() -> PlanCompatibility.check(portable, H100, false, "m.plan"))
                .hasMessageContaining("tensorrt.allow-host-code=true");
        assertThatCode(() -> PlanCompatibility.check(portable, H100, true, "m.plan"))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesPlansThatNeedPluginLibrariesNotShipped() {
        assertThatThrownBy(
                        () ->
                                PlanCompatibility.check(
                                        metadata("abc", 10, false, List.of("my_custom_plugins")),
                                        H100,
                                        false,
                                        "m.plan"))
                .hasMessageContaining("needs plugin libraries [my_custom_plugins]")
                .hasMessageContaining("not shipped");
        assertThatCode(
                        () ->
                                PlanCompatibility.check(
                                        metadata("abc", 10, false, List.of("nvinfer_plugin")),
                                        H100,
                                        false,
                                        "m.plan"))
                .doesNotThrowAnyException();
    }

    @Test
    void verifiesSizeAndChecksumBeforeLoading() throws Exception {
        byte[] plan = new byte[1000];
        Arrays.fill(plan, (byte) 7);
        Path file = dir.resolve("m.plan");
        Files.write(file, plan);
        metadata(ModelFiles.sha256(plan), plan.length, false).write(PlanMetadata.sidecarOf(file));
        assertThat(PlanFile.read(file).sha256()).isEqualTo(ModelFiles.sha256(plan));

        Files.write(file, Arrays.copyOf(plan, 600));
        assertThatThrownBy(() -> PlanFile.read(file))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("is 600 bytes, its metadata says 1000 (truncated)")
                .hasMessageContaining("Rebuild with build-engine");

        plan[10] = 8;
        Files.write(file, plan);
        assertThatThrownBy(() -> PlanFile.read(file))
                .hasMessageContaining("corrupt")
                .hasMessageContaining(ModelFiles.sha256(plan));

        Files.delete(PlanMetadata.sidecarOf(file));
        assertThatThrownBy(() -> PlanFile.read(file))
                .hasMessageContaining("has no metadata file m.plan.json");
    }

    /**
     * Plans built before a change of this record must still load: the metadata the bench left in
     * docs.
     */
    @Test
    void metadataWrittenByEarlierBuildsStillReads() throws Exception {
        Path docs = repoDir().resolve("docs").resolve("bench");
        List<Path> sidecars;
        try (Stream<Path> files = Files.walk(docs)) {
            sidecars =
                    files.filter(f -> f.getFileName().toString().endsWith(".plan.json")).toList();
        }
        assertThat(sidecars).isNotEmpty();
        for (Path sidecar : sidecars) {
            PlanMetadata metadata = PlanMetadata.read(sidecar);
            assertThat(metadata.formatVersion())
                    .as(sidecar.toString())
                    .isEqualTo(PlanMetadata.FORMAT_VERSION);
            assertThat(metadata.tensors().inputs()).as(sidecar.toString()).isNotEmpty();
            assertThat(metadata.tensors().profiles()).as(sidecar.toString()).isNotEmpty();
            for (TensorSpec tensor : metadata.tensors().inputs()) {
                assertThat(Arrays.stream(tensor.sampleShape()).allMatch(d -> d > 0))
                        .as(sidecar + " " + tensor)
                        .isTrue();
            }
            Path rewritten = dir.resolve(sidecar.getFileName());
            metadata.write(rewritten);
            assertThat(PlanMetadata.read(rewritten))
                    .as("written again, it reads the same")
                    .usingRecursiveComparison()
                    .isEqualTo(metadata);
        }
        PlanTensors resnet =
                PlanMetadata.read(
                                docs.resolve("h200-2026-11-29").resolve("resnet50-fp16.plan.json"))
                        .tensors();
        assertThat(resnet.inputs())
                .containsExactly(
                        new TensorSpec("input", DataType.FLOAT32, new long[] {3, 224, 224}));
        assertThat(resnet.outputs())
                .containsExactly(new TensorSpec("logits", DataType.FLOAT32, new long[] {1000}));
        assertThat(resnet.profiles())
                .containsExactly(
                        new BatchRange(1, 1, 1),
                        new BatchRange(2, 8, 8),
                        new BatchRange(9, 32, 32),
                        new BatchRange(33, 128, 128));
    }

    /**
     * The tensors as the first format has them, TensorRT's shapes as it reported them: a sample
     * dimension left dynamic (-1) that the profiles fix, and an output's batch as profile 0's.
     */
    @Test
    void readsTheTensorsOfTheFirstFormat() throws Exception {
        Path file = dir.resolve("first.plan.json");
        Files.writeString(file, FIRST_FORMAT);

        PlanTensors tensors = PlanMetadata.read(file).tensors();

        assertThat(tensors.inputs())
                .containsExactly(
                        new TensorSpec("ids", DataType.INT64, new long[] {128}),
                        new TensorSpec("mask", DataType.INT64, new long[] {128}));
        assertThat(tensors.outputs())
                .containsExactly(new TensorSpec("logits", DataType.FLOAT32, new long[] {2}));
        assertThat(tensors.profiles())
                .containsExactly(new BatchRange(1, 1, 1), new BatchRange(2, 8, 8));
        assertThat(tensors.maxBatch()).isEqualTo(8);
    }

    @Test
    void aTypeTheWireLacksIsRefusedWhenRead() throws Exception {
        Path file = dir.resolve("fp8.plan.json");
        Files.writeString(file, FIRST_FORMAT.replace("\"FLOAT32\"", "\"FP8\""));

        assertThatThrownBy(() -> PlanMetadata.read(file))
                .hasMessageContaining("TensorRT type FP8, which the wire format does not carry");
    }

    private static final String FIRST_FORMAT =
            """
            {
              "formatVersion" : 1, "tensorRtVersion" : "10.6.0.26", "cudaRuntimeVersion" : "12.6",
              "gpuName" : "NVIDIA H200", "computeCapability" : "9.0", "planSha256" : "abc", "planBytes" : 3,
              "onnxFile" : "bert_like.onnx", "onnxSha256" : "def",
              "flags" : { "fp16" : true, "int8" : false, "versionCompatible" : false, "tacticSources" : [ ],
                "workspaceMiB" : 4096, "optimizationLevel" : 3, "batchBuckets" : [ 1, 8 ], "calibration" : "" },
              "tensors" : [ {
                "name" : "ids", "mode" : "INPUT", "dtype" : "INT64", "shape" : [ -1, -1 ],
                "profiles" : [ { "min" : [ 1, 128 ], "opt" : [ 1, 128 ], "max" : [ 1, 128 ] },
                               { "min" : [ 2, 128 ], "opt" : [ 8, 128 ], "max" : [ 8, 128 ] } ]
              }, {
                "name" : "mask", "mode" : "INPUT", "dtype" : "INT64", "shape" : [ -1, 128 ],
                "profiles" : [ { "min" : [ 1, 128 ], "opt" : [ 1, 128 ], "max" : [ 1, 128 ] },
                               { "min" : [ 2, 128 ], "opt" : [ 8, 128 ], "max" : [ 8, 128 ] } ]
              }, {
                "name" : "logits", "mode" : "OUTPUT", "dtype" : "FLOAT32", "shape" : [ 1, 2 ], "profiles" : [ ]
              } ],
              "builtAt" : "2026-11-24T07:18:34Z", "buildSeconds" : 273.72
            }
            """;

    private static Path repoDir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("docs").resolve("bench"))) {
                return dir;
            }
        }
        throw new IllegalStateException(
                "docs/bench not found above " + Path.of("").toAbsolutePath());
    }

    static PlanMetadata metadata(String sha, long bytes, boolean versionCompatible) {
        return metadata(sha, bytes, versionCompatible, List.of());
    }

    static PlanMetadata metadata(
            String sha, long bytes, boolean versionCompatible, List<String> plugins) {
        return metadata(
                sha,
                bytes,
                versionCompatible,
                plugins,
                new PlanTensors(
                        List.of(new TensorSpec("x", DataType.FLOAT32, new long[] {16})),
                        List.of(new TensorSpec("probs", DataType.FLOAT32, new long[] {10})),
                        List.of(new BatchRange(1, 1, 1), new BatchRange(2, 8, 8))));
    }

    static PlanMetadata metadata(
            String sha,
            long bytes,
            boolean versionCompatible,
            List<String> plugins,
            PlanTensors tensors) {
        return new PlanMetadata(
                PlanMetadata.FORMAT_VERSION,
                "10.6.0.26",
                "12.6",
                "NVIDIA H100 80GB HBM3",
                "9.0",
                sha,
                bytes,
                "m.onnx",
                "def",
                new PlanMetadata.BuildFlags(
                        true,
                        false,
                        versionCompatible,
                        BuildOptions.parseTacticSources(BuildOptions.DEFAULT_TACTIC_SOURCES),
                        4096,
                        3,
                        List.of(1, 8),
                        ""),
                tensors,
                "2026-11-24T07:00:00Z",
                1.5,
                plugins);
    }
}
