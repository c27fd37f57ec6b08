package io.flinktrt.backend.tensorrt.plan;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.ModelFiles;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.build.BuildOptions;
import io.flinktrt.backend.tensorrt.gpu.GpuInfo;
import io.flinktrt.schema.DataType;
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

    private static final GpuInfo H100 = new GpuInfo(0, 1, "NVIDIA H100 80GB HBM3", "9.0", 80L << 30, -1, 132, 3,
            "13.0", "12.6", "10.6.0.26", true, true);

    @TempDir
    Path dir;

    @Test
    void roundTripsThroughJson() throws Exception {
        PlanMetadata metadata = metadata("abc", 3, false);
        Path file = dir.resolve("m.plan.json");
        metadata.write(file);
        PlanMetadata read = PlanMetadata.read(file);
        assertThat(read.toJson()).isEqualTo(metadata.toJson());
        assertThat(read.tensors().get(0).profiles().get(1).max()).containsExactly(8, 16);
        assertThat(Files.readString(file)).contains("\"planSha256\" : \"abc\"", "\"tensorRtVersion\" : \"10.6.0.26\"");
        assertThat(PlanMetadata.sidecarOf(dir.resolve("m.plan"))).isEqualTo(file);
    }

    @Test
    void acceptsAPlanBuiltHere() {
        assertThatCode(() -> PlanCompatibility.check(metadata("abc", 1, false), H100, false, "m.plan"))
                .doesNotThrowAnyException();
    }

    @Test
    void namesBothSidesOfAMismatch() {
        GpuInfo otherTrt = new GpuInfo(0, 1, "NVIDIA H100 80GB HBM3", "9.0", 0, -1, 132, 3, "13.0", "12.6",
                "10.7.0.23", true, true);
        assertThatThrownBy(() -> PlanCompatibility.check(metadata("abc", 1, false), otherTrt, false, "m.plan"))
                .hasMessageContaining("built with TensorRT 10.6.0.26, this JVM loads TensorRT 10.7.0.23")
                .hasMessageContaining("Rebuild with build-engine");
        GpuInfo a100 = new GpuInfo(0, 1, "NVIDIA A100-SXM4-80GB", "8.0", 0, -1, 108, 3, "13.0", "12.6", "10.6.0.26",
                true, true);
        assertThatThrownBy(() -> PlanCompatibility.check(metadata("abc", 1, false), a100, false, "m.plan"))
                .hasMessageContaining("compute capability 9.0 (NVIDIA H100 80GB HBM3)")
                .hasMessageContaining("8.0 (NVIDIA A100-SXM4-80GB)");
        GpuInfo h100Pcie = new GpuInfo(0, 1, "NVIDIA H100 PCIe", "9.0", 0, -1, 114, 3, "13.0", "12.6", "10.6.0.26",
                true, true);
        assertThatThrownBy(() -> PlanCompatibility.check(metadata("abc", 1, false), h100Pcie, false, "m.plan"))
                .hasMessageContaining("tuned on NVIDIA H100 80GB HBM3, GPU 0 here is NVIDIA H100 PCIe");
    }

    @Test
    void refusesHostCodeUnlessAllowed() {
        PlanMetadata portable = metadata("abc", 1, true);
        assertThatThrownBy(() -> PlanCompatibility.check(portable, H100, false, "m.plan"))
                .hasMessageContaining("tensorrt.allow-host-code=true");
        assertThatCode(() -> PlanCompatibility.check(portable, H100, true, "m.plan")).doesNotThrowAnyException();
    }

    @Test
    void refusesPlansThatNeedPluginLibrariesNotShipped() {
        assertThatThrownBy(() -> PlanCompatibility.check(metadata("abc", 10, false, List.of("my_custom_plugins")),
                H100, false, "m.plan"))
                .hasMessageContaining("needs plugin libraries [my_custom_plugins]")
                .hasMessageContaining("not shipped");
        assertThatCode(() -> PlanCompatibility.check(metadata("abc", 10, false, List.of("nvinfer_plugin")),
                H100, false, "m.plan")).doesNotThrowAnyException();
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
        assertThatThrownBy(() -> PlanFile.read(file)).isInstanceOf(BackendException.class)
                .hasMessageContaining("is 600 bytes, its metadata says 1000 (truncated)")
                .hasMessageContaining("Rebuild with build-engine");

        plan[10] = 8;
        Files.write(file, plan);
        assertThatThrownBy(() -> PlanFile.read(file)).hasMessageContaining("corrupt")
                .hasMessageContaining(ModelFiles.sha256(plan));

        Files.delete(PlanMetadata.sidecarOf(file));
        assertThatThrownBy(() -> PlanFile.read(file)).hasMessageContaining("has no metadata file m.plan.json");
    }

    /** Plans built before a change of this record must still load: the metadata the bench left in docs. */
    @Test
    void metadataWrittenByEarlierBuildsStillReads() throws Exception {
        Path docs = repoDir().resolve("docs").resolve("bench");
        List<Path> sidecars;
        try (Stream<Path> files = Files.walk(docs)) {
            sidecars = files.filter(f -> f.getFileName().toString().endsWith(".plan.json")).toList();
        }
        assertThat(sidecars).isNotEmpty();
        for (Path sidecar : sidecars) {
            PlanMetadata metadata = PlanMetadata.read(sidecar);
            assertThat(metadata.formatVersion()).as(sidecar.toString()).isEqualTo(PlanMetadata.FORMAT_VERSION);
            assertThat(metadata.tensors()).as(sidecar.toString()).anyMatch(PlanMetadata.IoTensor::input);
            assertThat(metadata.toJson()).as("the format stays as written").doesNotContain("sampleSpec", "wireType",
                    "\"input\" :");
            for (PlanMetadata.IoTensor tensor : metadata.tensors()) {
                TensorSpec spec = tensor.sampleSpec();
                assertThat(spec.name()).isEqualTo(tensor.name());
                assertThat(spec.sampleShape()).as(sidecar + " " + tensor.name()).hasSize(tensor.shape().length - 1);
                assertThat(Arrays.stream(spec.sampleShape()).allMatch(d -> d > 0)).as(spec.toString()).isTrue();
            }
        }
    }

    @Test
    void aTensorsSampleTakesProfileZerosMaxWhereTheEngineLeavesItDynamic() throws BackendException {
        PlanMetadata.IoTensor tokens = new PlanMetadata.IoTensor("ids", PlanMetadata.IoTensor.INPUT, "INT64",
                new long[] {-1, -1}, List.of(ShapeRange.parse("1x8/8x64/32x128")));

        assertThat(tokens.sampleSpec()).isEqualTo(new TensorSpec("ids", DataType.INT64, new long[] {128}));
        assertThatThrownBy(() -> new PlanMetadata.IoTensor("x", PlanMetadata.IoTensor.INPUT, "FP8", new long[] {-1, 4},
                List.of()).sampleSpec()).hasMessageContaining("TensorRT type FP8, which the wire format does not carry");
    }

    private static Path repoDir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("docs").resolve("bench"))) {
                return dir;
            }
        }
        throw new IllegalStateException("docs/bench not found above " + Path.of("").toAbsolutePath());
    }

    static PlanMetadata metadata(String sha, long bytes, boolean versionCompatible) {
        return metadata(sha, bytes, versionCompatible, List.of());
    }

    static PlanMetadata metadata(String sha, long bytes, boolean versionCompatible, List<String> plugins) {
        return new PlanMetadata(PlanMetadata.FORMAT_VERSION, "10.6.0.26", "12.6", "NVIDIA H100 80GB HBM3", "9.0", sha,
                bytes, "m.onnx", "def", new PlanMetadata.BuildFlags(true, false, versionCompatible,
                BuildOptions.parseTacticSources(BuildOptions.DEFAULT_TACTIC_SOURCES), 4096, 3, List.of(1, 8), ""),
                List.of(new PlanMetadata.IoTensor("x", "INPUT", "FLOAT32", new long[] {-1, 16},
                                List.of(ShapeRange.fixed(new long[] {1, 16}), ShapeRange.parse("2x16/8x16/8x16"))),
                        new PlanMetadata.IoTensor("probs", "OUTPUT", "FLOAT32", new long[] {-1, 10}, List.of())),
                "2026-11-24T07:00:00Z", 1.5, plugins);
    }
}
