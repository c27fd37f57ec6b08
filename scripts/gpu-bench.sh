#!/usr/bin/env bash
# Issue 4 on a GPU host: the full launcher (Flink, Kafka, TensorRT, ONNX Runtime) and the bench runs.
#
#   scripts/gpu-bench.sh kit          here: builds the project and assembles target/gpu-app (the launcher's
#                                     classpath, models, this script); then ../shared/gpu/bundle.sh target/gpu-app
#   bash target/gpu-app/gpu-bench.sh STEP   on the GPU host (after the bundle arrived), logs under $OUT:
#       engines   export ResNet-50 and the BERT-like encoder (torch) and build FP16 plans, batch buckets 1,8,32,128
#       local     the local run (embedded Kafka, Flink, TensorRT) on the BERT-like plan (ResNet-50's goes
#                 through Kafka in bench-resnet's job stage)
#       bench-resnet / bench-bert   the bench command for one model
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

kit() {
  set -e
  local root; root=$(cd "$here/.." && pwd)
  cd "$root"
  mvn -q -B install -DskipTests
  local k=target/gpu-app; rm -rf "$k"; mkdir -p "$k/lib" "$k/models"
  cp jobs/target/lib/*.jar jobs/target/flink-tensorrt-jobs.jar "$k/lib/"
  # ONNX Runtime without the natives of other platforms (139 MB -> ~25 MB)
  local ort; ort=$(ls "$k"/lib/onnxruntime-*.jar); local slim; slim=$(mktemp -d)
  (cd "$slim" && unzip -q "$root/$ort" -x 'ai/onnxruntime/native/osx-*' 'ai/onnxruntime/native/win-*' \
      'ai/onnxruntime/native/linux-aarch64/*' && rm "$root/$ort" && zip -q -r "$root/$ort" .)
  rm -rf "$slim"
  cp models/*.onnx models/generate.py "$k/models/"
  cp scripts/gpu-bench.sh "$k/"
  du -sh "$k"
}

ft() { # the launcher, as bin/flink-tensorrt runs it
  java --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    -Xmx24g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dlog4j2.configurationFile=classpath:log4j2-cli.properties \
    -cp "$here/lib/*" io.flinktrt.jobs.cli.Cli "$@"
}

step() {
  source /tmp/gpu/env.sh
  local out=${OUT:-/tmp/out}; mkdir -p "$out" /tmp/large
  case $1 in
    engines)
      [ -f /tmp/large/resnet50.onnx ] || python3 "$here/models/generate.py" --large /tmp/large > "$out/export.log" 2>&1
      nvidia-smi > "$out/nvidia-smi.txt"
      ft doctor > "$out/doctor.txt" 2>&1
      for m in resnet50 bert_like; do
        [ -f /tmp/large/$m-fp16.plan ] || { echo "\$ flink-tensorrt build-engine --onnx /tmp/large/$m.onnx --save-engine /tmp/large/$m-fp16.plan --fp16 --batch-buckets 1,8,32,128 --timing-cache /tmp/large/$m.timing-cache"
          SECONDS=0
          ft build-engine --onnx /tmp/large/$m.onnx --save-engine /tmp/large/$m-fp16.plan --fp16 \
            --batch-buckets 1,8,32,128 --timing-cache /tmp/large/$m.timing-cache
          echo "exit $? after $SECONDS s"; } > "$out/build-$m.log" 2>&1
        cp /tmp/large/$m-fp16.plan.json "$out/" 2>/dev/null
      done ;;
    local)
      { echo "\$ flink-tensorrt local --model /tmp/large/bert_like-fp16.plan --requests 20000 --int-range 30522"
        ft local --model /tmp/large/bert_like-fp16.plan --requests 20000 --int-range 30522; echo "exit $?"; } > "$out/local-bert_like.log" 2>&1 ;;
    bench-resnet|bench-bert)
      local m=resnet50; [ "$1" = bench-bert ] && m=bert_like
      { echo "\$ flink-tensorrt bench --model /tmp/large/$m-fp16.plan --seconds ${BENCH_SECONDS:-5} --out \$OUT/bench"
        ft bench --model /tmp/large/$m-fp16.plan --seconds "${BENCH_SECONDS:-5}" --out "$out/bench"; echo "exit $?"
        nvidia-smi --query-gpu=memory.used,memory.total --format=csv; } > "$out/bench-$m.log" 2>&1 ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
}

case ${1:-} in
  kit) kit ;;
  engines|local|bench-resnet|bench-bert) step "$1" ;;
  *) sed -n 2,12p "$0"; exit 2 ;;
esac
