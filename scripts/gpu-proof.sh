#!/usr/bin/env bash
# The TensorRT proof on a GPU host (issue 3): doctor, build-engine with --check for the test models and
# ResNet-50 (FP32, FP16) plus an INT8 build, the GPU tests, and the 50-cycle open/close memory figure.
#
#   scripts/gpu-proof.sh kit        here: builds the project and assembles target/gpu-kit (classpath, models,
#                                   a launcher for the two commands, the JUnit console); then
#                                   ../shared/gpu/bundle.sh target/gpu-kit   (see docs/gpu.md)
#   bash scripts/gpu-proof.sh run   on the GPU host, after the bundle's parts arrived: writes logs to $OUT
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

kit() {
  set -e
  cd "$root"
  mvn -q -B install -DskipTests
  local k=target/gpu-kit; rm -rf "$k"; mkdir -p "$k/lib" "$k/test-lib" "$k/classes" "$k/models"
  # the commands' classpath: the operator library's runtime jars (no Flink, no Kafka), the two jars of the
  # project, picocli and log4j; ONNX Runtime without its other platforms' natives
  mvn -q -B -pl operator dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$root/$k/lib"
  cp jobs/target/flink-tensorrt-jobs.jar operator/target/flink-tensorrt-operator-*-SNAPSHOT.jar "$k/lib/"
  cp jobs/target/lib/picocli-*.jar jobs/target/lib/log4j-*.jar "$k/lib/"
  local ort; ort=$(ls "$k"/lib/onnxruntime-*.jar); local slim; slim=$(mktemp -d)
  (cd "$slim" && unzip -q "$root/$ort" -x 'ai/onnxruntime/native/osx-*' 'ai/onnxruntime/native/win-*' \
      'ai/onnxruntime/native/linux-aarch64/*' '_manifest/*' && rm "$root/$ort" && zip -q -r "$root/$ort" .)
  rm -rf "$slim"
  # the GPU tests: operator's test classes, AssertJ, and the JUnit console (which brings JUnit itself)
  cp ~/.m2/repository/org/assertj/assertj-core/*/assertj-core-*.jar "$k/test-lib/"
  cp ~/.m2/repository/net/bytebuddy/byte-buddy/1.15.11/byte-buddy-1.15.11.jar "$k/test-lib/"
  cp -r operator/target/test-classes "$k/test-classes"
  mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4 -DoutputDirectory="$root/$k"
  cp models/*.onnx "$k/models/"
  # a launcher for build-engine and doctor (the lead's Cli registers the same classes as subcommands)
  local src; src=$(mktemp -d)
  cat > "$src/ProofCli.java" <<'JAVA'
import io.flinktrt.jobs.cli.BuildEngineCommand;
import io.flinktrt.jobs.cli.DoctorCommand;
import picocli.CommandLine;

@CommandLine.Command(name = "flink-tensorrt", subcommands = {BuildEngineCommand.class, DoctorCommand.class})
public final class ProofCli {
    public static void main(String[] args) {
        System.exit(new CommandLine(new ProofCli()).execute(args));
    }
}
JAVA
  javac -d "$k/classes" -cp "$k/lib/*" "$src/ProofCli.java"
  rm -rf "$src"
  du -sh "$k"
}

run() {
  cd /tmp/gpu/payload/target/gpu-kit
  source /tmp/gpu/env.sh
  local out=${OUT:-/tmp/gpu-proof-out}; mkdir -p "$out"
  local cp="classes:lib/*"
  local java="java -Dlog4j2.configurationFile=log4j2-cli.properties -cp $cp ProofCli"
  local plans=/tmp/plans; mkdir -p "$plans"
  local logs=/tmp/proof-logs; mkdir -p "$logs"
  # (at most 8 files come back from $OUT: every step is appended to proof.log as soon as it ends)
  step() { # NAME TIMEOUT COMMAND...: runs one step, logs it, and adds a line to summary.txt
    local name=$1 limit=$2; shift 2
    local t0; t0=$(date +%s)
    { echo "\$ $*"; timeout "$limit" "$@"; } > "$logs/$name.log" 2>&1
    local rc=$?
    echo "$name rc=$rc $(( $(date +%s) - t0 ))s" | tee -a "$out/summary.txt"
    { echo "===== $name (rc=$rc, $(( $(date +%s) - t0 )) s)"; cat "$logs/$name.log"; } >> "$out/proof.log"
  }
  { date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv; } > "$out/host.txt" 2>&1
  step doctor 60 $java doctor
  for m in mlp_classifier two_in_two_out token_classifier; do
    step "build-$m" 120 $java build-engine --onnx models/$m.onnx --save-engine $plans/$m.plan \
      --batch-buckets 1,8,32,128 --timing-cache $plans/small.timing-cache --check --check-rows 32
  done
  # INT8 with calibration from a folder of raw tensors (256 samples of 16 floats), then again from its cache
  python3 -c "import numpy as np, os; os.makedirs('/tmp/calib', exist_ok=True); r=np.random.default_rng(1); [r.standard_normal((64,16)).astype('<f4').tofile(f'/tmp/calib/{i}.raw') for i in range(4)]"
  step build-mlp-int8 120 $java build-engine --onnx models/mlp_classifier.onnx --save-engine $plans/mlp_int8.plan \
    --int8 --calib-data /tmp/calib --calib-cache $plans/mlp.calib-cache --batch-buckets 1,32 --check --check-rows 32
  step build-mlp-int8-cached 120 $java build-engine --onnx models/mlp_classifier.onnx --save-engine $plans/mlp_int8b.plan \
    --int8 --calib-cache $plans/mlp.calib-cache --batch-buckets 1,32 --check --check-rows 32
  PYTHONUNBUFFERED=1 step export-resnet 150 python3 "$root/models/generate.py" --large /tmp/large
  step build-resnet50-fp32 150 $java build-engine --onnx /tmp/large/resnet50.onnx --save-engine $plans/resnet50_fp32.plan \
    --shapes input:1x3x224x224/32x3x224x224/32x3x224x224 --timing-cache $plans/resnet.timing-cache --check --check-rows 8
  step build-resnet50-fp16 200 $java build-engine --onnx /tmp/large/resnet50.onnx --save-engine $plans/resnet50_fp16.plan \
    --fp16 --shapes input:1x3x224x224/128x3x224x224/128x3x224x224 --timing-cache $plans/resnet.timing-cache --check --check-rows 8
  step gpu-tests 300 java -Dlog4j2.configurationFile=log4j2-test.properties -Dflinktrt.cycle.plan=$plans/resnet50_fp16.plan \
    -cp "junit-platform-console-standalone-1.13.4.jar:test-classes:lib/*:test-lib/*" \
    org.junit.platform.console.ConsoleLauncher execute --select-class io.flinktrt.backend.tensorrt.TensorRtGpuTest \
    --include-tag gpu --details=tree --disable-banner --disable-ansi-colors
  step doctor-engine 60 $java doctor --engine $plans/resnet50_fp16.plan
  for f in "$plans"/*.json; do { echo "===== $f"; cat "$f"; } >> "$out/metadata.log"; done
}

case "${1:-}" in
  kit) kit ;;
  run) run ;;
  *) echo "usage: $0 kit|run" >&2; exit 2 ;;
esac
