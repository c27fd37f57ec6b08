#!/usr/bin/env bash
# Issue 4 on a GPU host: the full launcher (Flink, Kafka, TensorRT, ONNX Runtime) and the bench runs.
#
#   scripts/gpu-bench.sh kit          here: builds the project and assembles target/gpu-app (the launcher's
#                                     classpath, models, this script, the cluster's jars); then
#                                     ../shared/gpu/bundle.sh target/gpu-app
#   scripts/gpu-bench.sh kit-trt1015  here, after kit: the project built with -Ptrt10.15 (its jars, the 1.5.13
#                                     JavaCPP jars, the test classes) into target/gpu-app/trt1015, then the default
#                                     build again; its natives: scripts/gpu-trt1015.sh pack (.gpu-trt1015/)
#   bash target/gpu-app/gpu-bench.sh STEP   on the GPU host (after the bundle arrived); logs and results go
#                 to /tmp/results (RESULTS), which stays while the host does: end every run with `pack`
#       engines   export ResNet-50 and the BERT-like encoder (torch) and build FP16 plans, batch buckets 1,8,32,128
#                 (timing caches from an earlier lease, kept here in .gpu-cache/timing-caches, make it quicker);
#                 ENGINE_MODELS picks and orders the models, ENGINE_ARGS_<model> adds build-engine flags
#       local     the local run (embedded Kafka, Flink, TensorRT) on the BERT-like plan (ResNet-50's goes
#                 through Kafka in bench-resnet's job stage)
#       bench-resnet / bench-bert   the bench command for one model
#       bench-128 raw and operator rows at batch 128 for both plans; with the kit's base/ (BASE_JARS at kit
#                 time: an earlier build's project jars) alternating base/new runs on the same host
#       swap      issue 21: version 2 of each plan shipped into a running EXACTLY_ONCE Kafka job at about half the
#                 operator's rate for the BERT-like plan, 400/s for ResNet-50 (Kafka carries only a few thousand 602 KB
#                 requests a second) (SWAP_MODELS, SWAP_RATE_<model>); RESULTS/swap-<model>.log
#       text-lengths  the BERT-like encoder on texts of mixed lengths (io.flinktrt.tools.bench.TextLengths): the
#                 fixed-128 plan, then one built with --sequence-lengths 16,32,64,128 from bert_like_dynamic.onnx
#       text-ratios  issue 22 (io.flinktrt.tools.bench.TextRatios) on the plan by length (built as text-lengths
#                 builds it): the same TEXTS texts (50000) through the batches fed ids (tokenized before the clock:
#                 the reference), fed text, the operator in Flink, the Kafka job and ML_PREDICT from Kafka, with
#                 ratios to the reference and nvidia-smi's GPU busy share; the tokenizer alone on one thread; then
#                 the operator at half its text rate for LATENCY_SECONDS (10): p50/p99 by length against
#                 max-delay + 2 x that length's batch time; RESULTS/text-ratios.log
#       sql-bert  the BERT-like plan through ML_PREDICT and through the DataStream operator in one run, fed
#                 from memory and from Kafka; prints rows/s of each and the SQL/DataStream ratios (issue 13)
#       graphs-off  the backend and operator stages of both models with tensorrt.cuda-graphs=false
#       pack      everything under /tmp/results, the timing and calibration caches, into $OUT/results.tgz (a run brings
#                 back at most 8 files)
#       images-build  issue 14: exports ResNet-50 taking uint8 NHWC frames (normalized inside), writes INT8
#                 calibration frames, and starts in the background (setsid) the builds of image_uint8 (--check),
#                 resnet50_uint8 FP16 (buckets 1,8,32,128; timing cache seeded from the float model's) and
#                 resnet50_uint8 INT8+FP16 (bucket 128, --calib-data; calibration and timing caches kept); returns
#                 after the export (~1 min); the builds log to RESULTS/build-*.log
#                 IMAGES_INT8_BUCKETS (default 128; e.g. 128,256 for issue 23's INT8 row against MLPerf)
#       images-bench  waits for those builds (IMAGES_WAIT_S, default 420 s), then the bench at batch 128 (raw,
#                 operator, job, Kafka alone) for the float32, uint8 and INT8 ResNet-50 (IMAGES_PLANS picks some of
#                 resnet50-fp16 resnet50_uint8-fp16 resnet50_uint8-int8; IMAGES_BATCH_SIZES e.g. 128,256 with the INT8
#                 plan built with IMAGES_INT8_BUCKETS=128,256)
#       images-jpeg  issue 23: the uint8 ResNet-50 plans of images-build (FP16, INT8) fed the 224x224 JPEGs of
#                 models/images (bench --images: decoded on the GPU by nvJPEG): raw, operator, job, Kafka alone for the JPEG
#                 sizes, and the job on 1, 2 and 4 slots (a partition per source subtask); compare with images-bench's frames
#       images-agreement  issue 23: the photos (224x224 and 1080p) through the uint8 ResNet-50 plans with the GPU decoder
#                 and with the CPU decoder, each against ONNX Runtime on resnet50_uint8.onnx with the CPU decoder: top-1
#                 agreement and max |diff| of the logits (io.flinktrt.tools.bench.ImageAgreement)
#       images-decode  issue 23: JPEGs through the scheduler and a TensorRT runner of models/image_uint8.onnx (a mean
#                 colour: next to no compute) with tensorrt.image-decode hardware, gpu and cpu, for the 224x224 and the
#                 1080p photo sets (io.flinktrt.tools.bench.ImageDecodeThroughput): images/s of decode + resize + copy-in
#       cluster   the job jar on a Flink cluster (scripts/cluster.sh: JobManager, TaskManager with Flink's GPU
#                 external resource, Kafka broker; each its own JVM) on the BERT-like plan with 1, 2, 4 slots
#                 (AT_LEAST_ONCE, CLUSTER_REQUESTS each): records/s and GPU memory per slot count, engine
#                 deserializations per TaskManager JVM (its log); then a kill run (2 slots, EXACTLY_ONCE): a
#                 TaskManager SIGKILL, recovery, GPU memory of the job running again; cluster-*.log in RESULTS.
#                 On 2 GPUs (issue 7): CLUSTER_RUNS="1 tm-per-gpu tm-two-gpus" (one GPU; two TaskManagers with a
#                 GPU and a slot each; one TaskManager with two GPUs and a slot on each).
#                 CLUSTER_MODEL / CLUSTER_BACKEND / CLUSTER_REQUESTS / CLUSTER_MAX_BATCH (32) / CLUSTER_RUNS choose
#                 another run (an ONNX model with onnxruntime runs it without a GPU: that is how the step was tried)
#       strongly-typed-build  issue 24 (needs `engines` first, and generate.py's --strongly-typed export, which it
#                 runs): starts in the background (setsid; one build at a time) the strongly typed plans of the FP16
#                 and the Q/DQ INT8 twins of ResNet-50 and the BERT-like encoder (<model>-st-fp16, <model>-st-int8)
#                 and the weakly typed --fp16 --int8 ones (<model>-int8, calibrated on random inputs drawn as
#                 check-engine draws them), all batch bucket 128; `engines` gave <model>-fp16; ST_MODELS picks
#                 models, ST_ARGS adds build-engine flags (e.g. --opt-level 2: quicker); RESULTS/build-*.log
#       strongly-typed  waits for those builds (ST_WAIT_S, default 120 s; run it again if they go on), then for each plan check-engine against
#                 the float32 model on ONNX Runtime (max |diff|, top-1 agreement, 64 rows) and bench raw,operator
#                 at batch 128; RESULTS/strongly-typed.log, the table in RESULTS/strongly-typed-summary.txt (a run
#                 per model, ST_MODELS=resnet50 then bert_like, keeps each within the 10 minutes of a command)
#       trt1015-build  issue 24: starts in the background (setsid; after any other builds) version-compatible plans
#                 built with the 10.6 line (the 10.15 Maven redist cannot build for this GPU) under /tmp/large/vc:
#                 the three test models (buckets 1,8,32, as TensorRtAgreementGpuTest builds them) and the FP16
#                 ResNet-50 and BERT-like (buckets 1,8,32,128; TRT1015_MODELS picks those)
#       trt1015   waits for those builds (TRT1015_WAIT_S, default 120 s; run it again if they go on), then on the 10.15 runtime (the trt1015
#                 group of scripts/gpu-trt1015.sh, the kit's trt1015/ jars): doctor, check-engine of every plan
#                 against its ONNX model, TensorRtAgreementGpuTest on the plans (operator and Kafka job against
#                 ONNX Runtime), and bench raw,operator,job at batch 128 of the big plans on the 10.6 and then the
#                 10.15 runtime; RESULTS/trt1015/
#       tests     every test tagged gpu (operator and jobs) with the JUnit console: $OUT/gpu-tests.log and
#                 $OUT/gpu-tests-summary.txt (uses /tmp/large/resnet50-fp16.plan for the cycles when present;
#                 TESTS_JAVA_OPTS adds JVM flags, TESTS_TIMEOUT_S limits the run, default 540 s; GPU_TESTS names
#                 the classes to run, by simple name, space-separated)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

kit() {
  set -e
  local root; root=$(cd "$here/.." && pwd)
  cd "$root"
  [ -n "${KIT_NO_BUILD:-}" ] || mvn -q -B package -DskipTests   # KIT_NO_BUILD=1: the last build's outputs as they are
  local k=target/gpu-app; rm -rf "$k"; mkdir -p "$k/lib" "$k/models" "$k/test/lib" "$k/flink-dist/native/onnxruntime"
  cp jobs/tools/target/lib/*.jar jobs/tools/target/flink-tensorrt-tools.jar "$k/lib/"
  # the cluster step: Flink's lib/ and the GPU plugin (cluster module), the job jar, which of lib/ go into
  # Flink's lib/ (the jars of jobs/job/target/flink-lib, linked from lib/ there), ONNX Runtime's natives unpacked,
  # the harness; the Kafka broker runs from lib/ (the launcher's classpath has kafka_2.13 and kafka-tools)
  cp -r jobs/flink-dist/target/flink-dist/lib "$k/flink-dist/"
  # Flink's GPU driver with its discovery scripts, laid out as the distribution's plugins/external-resource-gpu/
  # (Central has it for 2.0.0 and 2.3.0 only; its API predates 2.2). Central lacks its parent pom
  # (flink-external-resources), which dependency:get and the build's dependency plugin (3.8.1) read first
  # ("Failed to read artifact descriptor"); the dependency plugin 2.8's copy fetches the jar alone.
  local gpu_dir="$k/flink-dist/plugins/external-resource-gpu"
  mvn -q -B -N org.apache.maven.plugins:maven-dependency-plugin:2.8:copy \
      -Dartifact=org.apache.flink:flink-external-resource-gpu:2.0.0 -DoutputDirectory="$gpu_dir"
  unzip -qo "$gpu_dir/flink-external-resource-gpu-2.0.0.jar" '*.sh' -d "$gpu_dir"
  cp jobs/job/target/flink-tensorrt-job.jar scripts/cluster.sh "$k/"
  (cd jobs/job/target/flink-lib && ls *.jar) > "$k/flink-lib.txt"
  unzip -qjo jobs/job/target/flink-lib/onnxruntime-*.jar 'ai/onnxruntime/native/linux-x64/*' -d "$k/flink-dist/native/onnxruntime"
  # ONNX Runtime without the natives of other platforms (139 MB -> ~25 MB)
  local ort; ort=$(ls "$k"/lib/onnxruntime-*.jar); local slim; slim=$(mktemp -d)
  (cd "$slim" && unzip -q "$root/$ort" -x 'ai/onnxruntime/native/osx-*' 'ai/onnxruntime/native/win-*' \
      'ai/onnxruntime/native/linux-aarch64/*' && rm "$root/$ort" && zip -q -r "$root/$ort" .)
  rm -rf "$slim"
  cp models/*.onnx models/generate.py models/text/tokenizer.json "$k/models/"
  cp -r models/images "$k/models/"   # the test photos: GpuImageDecodeGpuTest and images-decode
  # the GPU tests: the test classes of every module, AssertJ (its Assertions need no byte-buddy) and the JUnit
  # console, which brings JUnit itself; the classes tagged gpu, found in the sources (listed, not scanned:
  # scanning would load ITCases whose test-only dependencies stay here)
  for m in operator/runtime operator/engine-builder operator/flink jobs/job jobs/tools; do
    cp -r "$m/target/test-classes" "$k/test/$(basename "$m")-classes"
  done
  rm -rf "$k/test/tools-classes/npy"
  # (the console is no dependency of the build, so a fresh machine has to fetch it)
  mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4 \
      -DoutputDirectory="$k/test/lib"
  cp ~/.m2/repository/org/assertj/assertj-core/3.27.3/assertj-core-3.27.3.jar "$k/test/lib/"
  grep -rl '@Tag("gpu")' operator/*/src/test/java jobs/*/src/test/java | sed 's#.*/src/test/java/##; s#\.java$##; s#/#.#g' \
    | sort > "$k/test/gpu-tests.txt"
  cat "$k/test/gpu-tests.txt"
  # the tests' log: the project at INFO, Flink's per-restart task failures (50 stack traces) left out
  cat > "$k/test/log4j2-gpu-tests.properties" <<'PROPS'
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = Console
appender.console.name = Console
appender.console.type = Console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
logger.flinktrt.name = io.flinktrt
logger.flinktrt.level = INFO
logger.task.name = org.apache.flink.runtime.taskmanager.Task
logger.task.level = ERROR
logger.kafka.name = org.apache.kafka
logger.kafka.level = ERROR
PROPS
  cp scripts/gpu-bench.sh "$k/"
  # BASE_JARS: the project jars of an earlier build, for bench-128's before/after on one host
  if [ -n "${BASE_JARS:-}" ]; then mkdir -p "$k/base" && cp "$BASE_JARS"/*.jar "$k/base/"; fi
  if [ -d .gpu-cache/timing-caches ]; then cp -r .gpu-cache/timing-caches "$k/"; fi
  du -sh "$k"
}

tool() { # a main class of the launcher's classpath, with the launcher's JVM flags
  java --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    -Xmx24g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dlog4j2.configurationFile=classpath:log4j2-cli.properties \
    -cp "$here/lib/*" "$@"
}

ft() { tool io.flinktrt.tools.cli.Cli "$@"; } # the launcher, as bin/flink-tensorrt runs it

ft_base() { # the launcher with an earlier build's project jars (kit's base/) and this kit's other jars
  local tp=/tmp/base-classpath; mkdir -p "$tp"
  for j in "$here"/lib/*.jar; do case $(basename "$j") in flink-tensorrt-*) ;; *) ln -sf "$j" "$tp/";; esac; done
  java --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    -Xmx24g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dlog4j2.configurationFile=classpath:log4j2-cli.properties \
    -cp "$here/base/*:$tp/*" "${BASE_MAIN:-io.flinktrt.jobs.cli.Cli}" "$@"
}

step() {
  source /tmp/gpu/env.sh 2>/dev/null || [ "$1" = cluster ] || { echo "no /tmp/gpu/env.sh: run the bundle's recv.sh first"; exit 2; }
  local out=${RESULTS:-/tmp/results}; mkdir -p "$out" /tmp/large
  case $1 in
    engines)
      [ -f /tmp/large/resnet50.onnx ] || python3 "$here/models/generate.py" --large /tmp/large > "$out/export.log" 2>&1
      nvidia-smi > "$out/nvidia-smi.txt"
      ft doctor > "$out/doctor.txt" 2>&1
      for m in ${ENGINE_MODELS:-resnet50 bert_like}; do
        local more="ENGINE_ARGS_$m"; local extra=(${!more:-}) # e.g. ENGINE_ARGS_resnet50="--opt-level 1": a quicker build
        [ -f "$here/timing-caches/$m.timing-cache" ] && [ ! -f /tmp/large/$m.timing-cache ] \
          && cp "$here/timing-caches/$m.timing-cache" /tmp/large/
        [ -f /tmp/large/$m-fp16.plan ] || { echo "\$ flink-tensorrt build-engine --onnx /tmp/large/$m.onnx --save-engine /tmp/large/$m-fp16.plan --fp16 --batch-buckets 1,8,32,128 --timing-cache /tmp/large/$m.timing-cache ${extra[*]}"
          SECONDS=0
          ft build-engine --onnx /tmp/large/$m.onnx --save-engine /tmp/large/$m-fp16.plan --fp16 \
            --batch-buckets 1,8,32,128 --timing-cache /tmp/large/$m.timing-cache "${extra[@]}"
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
    bench-128)
      # raw and operator rows at batch 128 for both models: this build, and (when the kit has base/, the
      # project jars of an earlier build, `BASE_JARS=DIR scripts/gpu-bench.sh kit`) that build on the same
      # host, alternating, so that a change's figures compare with the code before it
      local runs=(new); [ -d "$here/base" ] && runs=(base new base new)
      for m in ${ENGINE_MODELS:-resnet50 bert_like}; do
        for build in "${runs[@]}"; do
          { echo "\$ [$build] flink-tensorrt bench --model /tmp/large/$m-fp16.plan --stages raw,operator --batch-sizes 128 --seconds ${BENCH_SECONDS:-5}"
            if [ "$build" = base ]; then ft_base bench --model /tmp/large/$m-fp16.plan --stages raw,operator \
                --batch-sizes 128 --seconds "${BENCH_SECONDS:-5}" --out "$out/bench-128-$build"
            else ft bench --model /tmp/large/$m-fp16.plan --stages raw,operator --batch-sizes 128 \
                --seconds "${BENCH_SECONDS:-5}" --out "$out/bench-128-$build"; fi
            echo "exit $?"; } >> "$out/bench-128-$m.log" 2>&1
        done
        grep -E '^\$|batch|records/s|raw|operator' "$out/bench-128-$m.log" | tail -40
      done ;;
    swap)
      # issue 21: a Kafka job (EXACTLY_ONCE, checkpoints every second) at about half the operator's rate on a
      # model repository holding version 1 (the FP16 plan); 15 s in, `local --swap-in` ships version 2 (the
      # same plan, a stand-in for a retrained model of the same architecture) the way users are told to;
      # the report gives the versions' result counts, the time to the first version-2 result, latency
      # before and around the swap, and GPU memory before, during and after
      for m in ${SWAP_MODELS:-bert_like resnet50}; do
        local rate=8500 range=30522; [ "$m" = resnet50 ] && rate=400 range=100 # 602 KB requests: Kafka carries a few thousand a second
        local r="SWAP_RATE_$m"; rate=${!r:-$rate}
        rm -rf /tmp/swap-repo/$m /tmp/swap-v2-$m; mkdir -p /tmp/swap-repo/$m/1 /tmp/swap-v2-$m
        for d in /tmp/swap-repo/$m/1 /tmp/swap-v2-$m; do
          cp /tmp/large/$m-fp16.plan $d/model.plan; cp /tmp/large/$m-fp16.plan.json $d/model.plan.json
        done
        { echo "\$ flink-tensorrt local --model-repository /tmp/swap-repo --model-name $m --backend tensorrt --max-batch 128 --requests $((rate * 35)) --rate $rate --bad-requests 0 --int-range $range --delivery-guarantee EXACTLY_ONCE --checkpoint-interval-ms 1000 --repository-poll-ms 1000 --swap-in /tmp/swap-v2-$m --swap-after-s 15"
          ft local --model-repository /tmp/swap-repo --model-name $m --backend tensorrt --max-batch 128 \
            --requests $((rate * 35)) --rate $rate --bad-requests 0 --int-range $range \
            --delivery-guarantee EXACTLY_ONCE --checkpoint-interval-ms 1000 --repository-poll-ms 1000 \
            --swap-in /tmp/swap-v2-$m --swap-after-s 15
          echo "exit $?"; } > "$out/swap-$m.log" 2>&1
        grep -vE '^  sent' "$out/swap-$m.log" | grep -E 'Swap|first result|latency|GPU memory|Results|version|OK|INCOMPLETE|exit|serves|Released|ready after' | tail -20
      done ;;
    text-lengths) # the BERT-like encoder on texts of mixed lengths: one plan at 128 tokens, one by length
      dynamic_bert_plan "$out"
      for p in bert_like-fp16 bert_like_dynamic-fp16; do
        echo "\$ java io.flinktrt.tools.bench.TextLengths /tmp/large/$p.plan models/tokenizer.json ${TEXTS:-50000} 128"
        java -Xmx8g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dlog4j2.configurationFile=classpath:log4j2-cli.properties \
          -cp "$here/lib/*" io.flinktrt.tools.bench.TextLengths /tmp/large/$p.plan "$here/models/tokenizer.json" "${TEXTS:-50000}" 128
        echo "exit $?"
      done > "$out/text-lengths.log" 2>&1
      grep -E '^(model|[0-9]+ texts|exit)' "$out/text-lengths.log" ;;
    text-ratios) # issue 22: text through every path against the batches fed ids, tokenizer alone, p99 at 50% by length
      dynamic_bert_plan "$out"
      { echo "\$ java io.flinktrt.tools.bench.TextRatios /tmp/large/bert_like_dynamic-fp16.plan models/tokenizer.json ${TEXTS:-50000} 128 - ${LATENCY_SECONDS:-10}"
        tool io.flinktrt.tools.bench.TextRatios /tmp/large/bert_like_dynamic-fp16.plan "$here/models/tokenizer.json" \
          "${TEXTS:-50000}" 128 - "${LATENCY_SECONDS:-10}"
        echo "exit $?"; } > "$out/text-ratios.log" 2>&1
      grep -E '^(model|tokenizer|  [a-z]+: |stage|ids|text|ratio|latency|  length|exit)' "$out/text-ratios.log" ;;
    sql-bert)
      { echo "\$ java io.flinktrt.tools.bench.SqlVsDataStream /tmp/large/bert_like-fp16.plan ${SQL_ROWS:-20000}"
        tool io.flinktrt.tools.bench.SqlVsDataStream /tmp/large/bert_like-fp16.plan "${SQL_ROWS:-20000}"
        echo "exit $?"; } > "$out/sql-bert.log" 2>&1
      grep -E '^(model|from memory|from Kafka)' "$out/sql-bert.log" ;;
    graphs-off)
      for m in resnet50 bert_like; do
        { echo "\$ flink-tensorrt bench --model /tmp/large/$m-fp16.plan --set tensorrt.cuda-graphs=false --stages raw,operator --seconds ${BENCH_SECONDS:-5} --out \$OUT/bench-graphs-off"
          ft bench --model /tmp/large/$m-fp16.plan --set tensorrt.cuda-graphs=false --stages raw,operator \
            --seconds "${BENCH_SECONDS:-5}" --out "$out/bench-graphs-off"; echo "exit $?"; } > "$out/bench-graphs-off-$m.log" 2>&1
      done ;;
    pack)
      mkdir -p "$out/timing-caches"; cp /tmp/large/*.timing-cache /tmp/large/*.calib-cache "$out/timing-caches/" 2>/dev/null
      tar czf "${OUT:-/tmp}/results.tgz" -C "$out" . && ls -la "${OUT:-/tmp}/results.tgz" ;;
    images-jpeg) images_jpeg "$out" ;;
    images-agreement) # issue 23: ResNet-50 uint8 (FP16, INT8) on the photos, GPU and CPU decoder, vs ONNX Runtime
      for p in ${IMAGES_JPEG_PLANS:-resnet50_uint8-fp16 resnet50_uint8-int8}; do
        [ -f /tmp/large/$p.plan ] || { echo "no /tmp/large/$p.plan (run images-build first): skipped"; continue; }
        echo "\$ java io.flinktrt.tools.bench.ImageAgreement /tmp/large/$p.plan /tmp/large/resnet50_uint8.onnx 'models/images/photo-*.jpg' 32"
        java -Xmx8g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dlog4j2.configurationFile=classpath:log4j2-cli.properties \
          -cp "$here/lib/*" io.flinktrt.tools.bench.ImageAgreement /tmp/large/$p.plan /tmp/large/resnet50_uint8.onnx \
          "$here/models/images/photo-*.jpg" 32
        echo "exit $?"
      done > "$out/images-agreement.log" 2>&1
      grep -E 'agreement|exit|Exception' "$out/images-agreement.log" ;;
    images-decode) # issue 23: decode + resize + copy-in alone (a model computing a mean colour), per image-decode
      [ -f /tmp/large/image_uint8-b128.plan ] || { echo "\$ flink-tensorrt build-engine --onnx models/image_uint8.onnx --save-engine /tmp/large/image_uint8-b128.plan --batch-buckets 1,8,32,128"
        ft build-engine --onnx "$here/models/image_uint8.onnx" --save-engine /tmp/large/image_uint8-b128.plan \
          --batch-buckets 1,8,32,128; echo "exit $?"; } > "$out/build-image_uint8-b128.log" 2>&1
      for set in photo-224-:${DECODE_IMAGES_224:-50000} photo-1080p-:${DECODE_IMAGES_1080P:-5000}; do
        echo "\$ java io.flinktrt.tools.bench.ImageDecodeThroughput /tmp/large/image_uint8-b128.plan 'models/images/${set%%:*}*.jpg' ${set##*:} 128"
        java -Xmx8g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dlog4j2.configurationFile=classpath:log4j2-cli.properties \
          -cp "$here/lib/*" io.flinktrt.tools.bench.ImageDecodeThroughput /tmp/large/image_uint8-b128.plan \
          "$here/models/images/${set%%:*}*.jpg" "${set##*:}" 128
        echo "exit $?"
      done > "$out/images-decode.log" 2>&1
      grep -E 'image-decode|decode on|exit|Exception' "$out/images-decode.log" ;;
    tests) tests "$out" ;;
    strongly-typed-build) in_background strongly-typed-builds ;;
    strongly-typed-builds) strongly_typed_builds "$out" ;;
    strongly-typed) strongly_typed "$out" ;;
    trt1015-build) in_background trt1015-builds ;;
    trt1015-builds) trt1015_builds "$out" ;;
    trt1015) trt1015 "$out" ;;
    images-build) images_build "$out" ;;
    images-builds) images_builds "$out" ;;
    images-bench) images_bench "$out" ;;
    cluster) cluster "$out" ;;
    *) echo "unknown step $1"; exit 2 ;;
  esac
}

dynamic_bert_plan() { # /tmp/large/bert_like_dynamic-fp16.plan (the BERT-like encoder by length), built once
  local out=$1
  [ -f /tmp/large/bert_like_dynamic.onnx ] || python3 "$here/models/generate.py" --large /tmp/large >> "$out/export.log" 2>&1
  local extra=(${ENGINE_ARGS_bert_like:-})
  [ -f /tmp/large/bert_like_dynamic-fp16.plan ] || { echo "\$ flink-tensorrt build-engine --onnx /tmp/large/bert_like_dynamic.onnx --save-engine /tmp/large/bert_like_dynamic-fp16.plan --fp16 --batch-buckets 1,8,32,128 --sequence-lengths 16,32,64,128 --timing-cache /tmp/large/bert_like.timing-cache ${extra[*]}"
    SECONDS=0
    ft build-engine --onnx /tmp/large/bert_like_dynamic.onnx --save-engine /tmp/large/bert_like_dynamic-fp16.plan --fp16 \
      --batch-buckets 1,8,32,128 --sequence-lengths 16,32,64,128 --timing-cache /tmp/large/bert_like.timing-cache "${extra[@]}"
    echo "exit $? after $SECONDS s"; } > "$out/build-bert_like_dynamic.log" 2>&1
  cp /tmp/large/bert_like_dynamic-fp16.plan.json "$out/" 2>/dev/null
}

images_build() { # issue 14: uint8 frames and INT8; the engine builds go on in the background
  local out=$1 L=/tmp/large
  { echo "\$ python3 models/generate.py --large $L"; SECONDS=0
    python3 "$here/models/generate.py" --large $L; echo "exit $? after $SECONDS s"; } > "$out/export-images.log" 2>&1
  # INT8 calibration: random frames (the weights are random too), 512 frames in 4 raw files of 128
  [ -d $L/calib-uint8 ] || python3 -c "import numpy as np, os; os.makedirs('$L/calib-uint8')
r = np.random.default_rng(14)
for i in range(4): r.integers(0, 256, (128, 224, 224, 3), dtype=np.uint8).tofile(f'$L/calib-uint8/frames-{i}.raw')"
  # caches from an earlier lease; else the float model's timing cache, which answers for every layer but the first few
  local c; for c in resnet50_uint8.timing-cache resnet50_int8.timing-cache resnet50_uint8.calib-cache; do
    [ -f "$L/$c" ] || cp "$here/timing-caches/$c" "$L/" 2>/dev/null \
      || { [[ $c == *.timing-cache ]] && cp $L/resnet50.timing-cache "$L/$c" 2>/dev/null; }
  done
  rm -f $L/images-builds.done
  setsid bash "$here/gpu-bench.sh" images-builds < /dev/null > "$out/images-builds.log" 2>&1 &
  echo "builds started in the background: $out/build-*.log; $L/images-builds.done when all ended"; ls -la $L
}

images_builds() { # the background part of images-build: one build at a time (concurrent builds skew tactic timings)
  local out=$1 L=/tmp/large; local status=()
  build_plan "$out" image_uint8 --onnx "$here/models/image_uint8.onnx" --batch-buckets 1,8 --check
  build_plan "$out" resnet50_uint8-fp16 --onnx $L/resnet50_uint8.onnx --fp16 --batch-buckets 1,8,32,128 \
    --timing-cache $L/resnet50_uint8.timing-cache --check
  build_plan "$out" resnet50_uint8-int8 --onnx $L/resnet50_uint8.onnx --fp16 --int8 --calib-data $L/calib-uint8 \
    --calib-cache $L/resnet50_uint8.calib-cache --batch-buckets "${IMAGES_INT8_BUCKETS:-128}" --opt-level "${IMAGES_INT8_OPT_LEVEL:-3}" \
    --timing-cache $L/resnet50_int8.timing-cache --check
  printf '%s\n' "${status[@]}" > $L/images-builds.done
}

images_bench() { # float32 vs uint8 vs INT8 ResNet-50 at batch 128: raw, operator, job and Kafka alone
  local out=$1 L=/tmp/large p waited=0
  while [ ! -f $L/images-builds.done ] && [ $waited -lt "${IMAGES_WAIT_S:-420}" ]; do sleep 5; waited=$((waited + 5)); done
  echo "waited $waited s for the builds: $(cat $L/images-builds.done 2>/dev/null || echo 'still building')"
  for p in ${IMAGES_PLANS:-resnet50-fp16 resnet50_uint8-fp16 resnet50_uint8-int8}; do
    [ -f $L/$p.plan ] || { echo "no $L/$p.plan: skipped"; continue; }
    { echo "\$ flink-tensorrt bench --model $L/$p.plan --batch-sizes 128 --stages raw,operator,job,kafka --seconds ${BENCH_SECONDS:-5} --out \$OUT/bench-images"
      SECONDS=0
      ft bench --model $L/$p.plan --batch-sizes "${IMAGES_BATCH_SIZES:-128}" --stages raw,operator,job,kafka --seconds "${BENCH_SECONDS:-5}" \
        --out "$out/bench-images"; echo "exit $? after $SECONDS s"; } > "$out/bench-images-$p.log" 2>&1
    sed -n '/^stage /,/^Wrote/p' "$out/bench-images-$p.log"
  done
}

images_jpeg() { # issue 23: the uint8 ResNet-50 plans fed JPEGs (decoded on the GPU): operator, Kafka alone, job on 1/2/4 slots
  local out=$1 L=/tmp/large p
  for p in ${IMAGES_JPEG_PLANS:-resnet50_uint8-fp16 resnet50_uint8-int8}; do
    [ -f $L/$p.plan ] || { echo "no $L/$p.plan (run images-build first): skipped"; continue; }
    { echo "\$ flink-tensorrt bench --model $L/$p.plan --images 'models/images/photo-224-*.jpg' --batch-sizes 128 --stages raw,operator,job,kafka,job-slots --slots 1,2,4 --seconds ${BENCH_SECONDS:-5} --out \$OUT/bench-jpeg"
      SECONDS=0
      ft bench --model $L/$p.plan --images "$here/models/images/photo-224-*.jpg" --batch-sizes 128 \
        --stages raw,operator,job,kafka,job-slots --slots 1,2,4 --seconds "${BENCH_SECONDS:-5}" \
        --out "$out/bench-jpeg"; echo "exit $? after $SECONDS s"; } > "$out/bench-jpeg-$p.log" 2>&1
    sed -n '/^stage /,/^Wrote/p' "$out/bench-jpeg-$p.log"
    grep -E 'decode on|exit' "$out/bench-jpeg-$p.log" | sort | uniq -c
  done
}

cluster() { # RESULTS/cluster-*.log: the job jar on scripts/cluster.sh with 1, 2, 4 slots on one GPU TaskManager
  local out=$1 slots
  local model=${CLUSTER_MODEL:-/tmp/large/bert_like-fp16.plan} backend=${CLUSTER_BACKEND:-tensorrt}
  local requests=${CLUSTER_REQUESTS:-50000} range=${CLUSTER_INT_RANGE:-30522}
  # a missing plan would only show as a job failing in open() on the TaskManager, and no figure
  [ -f "$model" ] || { echo "cluster: no model $model (run the engines step first)" | tee "$out/cluster.log"; return 2; }
  # Flink's lib/ gets the native jars of the launcher's lib/ (listed by the kit)
  local trt_lib=/tmp/cluster-flink-lib; rm -rf "$trt_lib"; mkdir -p "$trt_lib"
  while read -r jar; do ln -s "$here/lib/$jar" "$trt_lib/"; done < "$here/flink-lib.txt"
  chmod +x "$here"/flink-dist/plugins/external-resource-gpu/*.sh
  local extra=/tmp/cluster-gpu.yaml
  gpu_conf() { # GPUS per TaskManager: Flink's gpu external resource as docker-compose.yml configures it
    : > "$extra"
    command -v nvidia-smi > /dev/null || return 0
    printf '%s\n' 'external-resources: gpu' "external-resource.gpu.amount: $1" \
      'external-resource.gpu.driver-factory.class: org.apache.flink.externalresource.gpu.GPUDriverFactory' \
      'external-resource.gpu.param.discovery-script.args: --enable-coordination-mode' \
      'taskmanager.memory.task.off-heap.size: 2g' > "$extra"
  }
  # CUDA numbers GPUs fastest first unless told otherwise; Flink's discovery script gives nvidia-smi's
  # (PCI order) indices, so the TaskManagers get PCI order too
  export CUDA_DEVICE_ORDER=PCI_BUS_ID
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=index,pci.bus_id,name --format=csv,noheader > "$out/cluster-gpus.txt"
  checkpoints() { bash "$here/cluster.sh" rest "/jobs/$1/checkpoints" | grep -o '"completed":[0-9][0-9]*' | head -1 | cut -d: -f2; }
  gpu_mem() { # per GPU: "GPU 0: 949 MiB"
    command -v nvidia-smi > /dev/null || { echo "n/a (no GPU)"; return; }
    nvidia-smi --query-gpu=index,memory.used --format=csv,noheader | sed 's/^\([0-9]*\), /GPU \1: /' | paste -sd';' | sed 's/;/; /g'
  }
  # Throughput runs at AT_LEAST_ONCE: under EXACTLY_ONCE results become visible only at checkpoints, so a
  # reader sees them in bursts and cannot time them (the first H200 run read 10,000 in under a second).
  # The kill run is EXACTLY_ONCE, on 2 slots.
  # Runs: a slot count (one TaskManager, one GPU), kill, and for hosts with 2 GPUs (issue 7) tm-per-gpu (two
  # TaskManagers with a GPU and a slot each) and tm-two-gpus (one TaskManager with two GPUs and two slots).
  for run in ${CLUSTER_RUNS:-1 2 4 kill}; do
    local slots=$run tms=1 gpus=1 guarantee=${CLUSTER_GUARANTEE:-AT_LEAST_ONCE} count=$requests
    case $run in
      kill) slots=2; guarantee=EXACTLY_ONCE; count=${CLUSTER_KILL_REQUESTS:-20000} ;;
      tm-per-gpu) slots=1; tms=2 ;;
      tm-two-gpus) slots=2; gpus=2 ;;
    esac
    local parallelism=$((tms * slots)); gpu_conf "$gpus"
    local log="$out/cluster-$run-slots.log" home=/tmp/cluster-$run
    export CLUSTER_HOME=$home TASK_MANAGERS=$tms TASK_SLOTS=$slots TM_PROCESS_SIZE=${CLUSTER_TM_SIZE:-16g} \
      FLINK_DIST_LIB=$here/flink-dist/lib FLINK_TRT_LIB=$trt_lib KAFKA_LIBS=$here/lib FLINK_CONF_EXTRA=$extra \
      FLINK_PLUGINS=$here/flink-dist/plugins ORT_NATIVE_DIR=$here/flink-dist/native/onnxruntime \
      JOB_JAR=$here/flink-tensorrt-job.jar TOPICS="inference-requests inference-results inference-dead-letter" \
      PARTITIONS=$((parallelism > 2 ? parallelism : 2)) # a partition per source subtask: with fewer, some get no records
    { SECONDS=0; date -u
      echo "\$ scripts/cluster.sh up   # TASK_MANAGERS=$tms TASK_SLOTS=$slots PARTITIONS=$PARTITIONS, GPU resource: $([ -s "$extra" ] && echo "$gpus GPU(s) per TaskManager" || echo no)"
      bash "$here/cluster.sh" up || { echo "exit $?"; bash "$here/cluster.sh" down; continue; }
      source "$home/cluster.env"
      local tmlog="$home/flink/log/taskmanager-1.log"
      echo "GPU memory used, cluster up, no job: $(gpu_mem)"
      echo "\$ ft produce --count $count (before the job starts: it reads the backlog)"
      ft produce --bootstrap-servers "$BOOTSTRAP_SERVERS" --model "$model" --count "$count" --int-range "$range" 2>&1 | tail -1
      local jobargs=(--bootstrap-servers "$BOOTSTRAP_SERVERS" --model "$model" --backend "$backend" --max-batch "${CLUSTER_MAX_BATCH:-32}"
        --delivery-guarantee "$guarantee" --checkpoint-interval-ms 2000)
      echo "\$ scripts/cluster.sh flink run -d -p $parallelism flink-tensorrt-job.jar ${jobargs[*]}"
      bash "$here/cluster.sh" flink run -d -p "$parallelism" "$here/flink-tensorrt-job.jar" "${jobargs[@]}"
      local job; job=$(bash "$here/cluster.sh" rest /jobs/overview | grep -o '"jid":"[0-9a-f]*"' | cut -d'"' -f4 | head -1)
      echo "\$ ft consume --count $count --drain-ms 5000   (records/s: 'Read ... over ... s (N/s)', first to last result; then 5 s more for late duplicates)"
      ft consume --bootstrap-servers "$BOOTSTRAP_SERVERS" --from-beginning --count "$count" --drain-ms 5000 --idle-s 120 \
        --output "$home/results" 2>&1 | grep -v '^ *\[\|^  /'
      echo "GPU memory used, job running with $parallelism slot(s): $(gpu_mem)"
      local n; for n in $(seq "$tms"); do
        echo "taskmanager-$n: engine deserializations, the device each subtask took, contexts (its log):"
        grep -E 'Deserialized the TensorRT engine|TensorRT .*context' "$home/flink/log/taskmanager-$n.log" | cut -c1-300
        grep -o 'Subtask [0-9]* runs .* (device [0-9]* from [^)]*)' "$home/flink/log/taskmanager-$n.log"
      done
      cat "$home"/flink/log/taskmanager-*.log | grep -c 'Subtask .* runs ' | sed 's/^/operator subtasks opened: /'
      if [ "$run" = kill ]; then
        echo "\$ scripts/cluster.sh kill-taskmanager 1   (SIGKILL, while requests stream in)"
        ft produce --bootstrap-servers "$BOOTSTRAP_SERVERS" --model "$model" --count "$count" --int-range "$range" \
          --id-prefix after-kill- --rate 2000 > /dev/null 2>&1 &
        local producer=$!; sleep 3
        local before opened; before=$(checkpoints "$job"); opened=$(grep -c 'Subtask .* runs ' "$tmlog")
        bash "$here/cluster.sh" kill-taskmanager 1; local killed=$SECONDS; sleep 2
        echo "GPU memory used 2 s after the kill: $(gpu_mem)"
        bash "$here/cluster.sh" start-taskmanager 1
        until [ "$(checkpoints "$job")" -gt "$before" ]; do sleep 1; [ $((SECONDS - killed)) -lt 300 ] || break; done
        echo "job recovered: first checkpoint (results visible again) $((SECONDS - killed)) s after the kill"
        wait $producer
        ft consume --bootstrap-servers "$BOOTSTRAP_SERVERS" --from-beginning --count $((2 * count)) --drain-ms 5000 --idle-s 120 \
          --output "$home/results-after-kill" 2>&1 | grep -v '^ *\[\|^  /'
        # the memory of the job running again: both subtasks open in the new JVM and a checkpoint since
        until [ "$(grep -c 'Subtask .* runs ' "$tmlog")" -ge $((opened + slots)) ]; do sleep 1; [ $((SECONDS - killed)) -lt 300 ] || break; done
        local after; after=$(checkpoints "$job")
        until [ "$(checkpoints "$job")" -gt "$after" ]; do sleep 1; [ $((SECONDS - killed)) -lt 300 ] || break; done
        echo "GPU memory used, job running again with $slots slot(s) in the new TaskManager JVM: $(gpu_mem)"
        echo "engine deserializations in the TaskManager log (both JVMs, appended):"
        grep -c 'Deserialized the TensorRT engine' "$tmlog"
        echo "task failures in the job's exception history (one per subtask of a failover): $(bash "$here/cluster.sh" rest "/jobs/$job/exceptions" | grep -o '"exceptionName"' | wc -l)"
        # exactly once: everything committed, read until the topic is idle, and each request id counted
        echo "\$ ft consume --from-beginning --idle-s 15 (no count: all that was committed)"
        ft consume --bootstrap-servers "$BOOTSTRAP_SERVERS" --from-beginning --idle-s 15 \
          --output "$home/results-all" 2>&1 | grep -E '^Read '
        echo "ids sent $((2 * count)); distinct ids read $(sort -u "$home/results-all/ids.txt" | wc -l);" \
          "ids read more than once $(sort "$home/results-all/ids.txt" | uniq -d | wc -l)"
      fi
      bash "$here/cluster.sh" flink cancel "$job" > /dev/null 2>&1
      bash "$here/cluster.sh" down
      sleep 2; echo "GPU memory used, cluster down: $(gpu_mem)"
      for n in $(seq "$tms"); do
        cp "$home/flink/log/taskmanager-$n.log" "$out/cluster-$run-slots-taskmanager$([ "$tms" = 1 ] || echo "-$n").log"
      done
      echo "done after $SECONDS s"; } > "$log" 2>&1
    grep -E 'Read [0-9]+ results|GPU memory|recovered|exception history|ids sent|done after|exit' "$log"
  done
}

kit_trt1015() { # target/gpu-app/trt1015: the Java side of the 10.15 line (its natives: scripts/gpu-trt1015.sh)
  set -e
  local root; root=$(cd "$here/.." && pwd); cd "$root"
  local k=target/gpu-app/trt1015 m
  [ -d target/gpu-app/lib ] || { echo "run kit first"; exit 2; }
  rm -rf "$k"; mkdir -p "$k/lib" "$k/test"
  mvn -q -B package -DskipTests -Ptrt10.15
  # the project's jars compiled against the 1.5.13 presets, and those presets' Java and JNI jars
  (cd jobs/tools/target/lib && cp flink-tensorrt-*.jar javacpp-1.5.13*.jar tensorrt-10.15-*.jar cuda-13.1-*.jar \
     "$root/$k/lib/") && cp jobs/tools/target/flink-tensorrt-tools.jar "$k/lib/"
  for m in operator/runtime operator/engine-builder operator/flink jobs/job jobs/tools; do
    cp -r "$m/target/test-classes" "$k/test/$(basename "$m")-classes"
  done
  rm -rf "$k/test/tools-classes/npy"
  # the tree as the default line builds it again; copy-dependencies adds to these folders, never empties them
  rm -rf jobs/tools/target/lib jobs/job/target/flink-lib
  mvn -q -B package -DskipTests
  du -sh "$k"
}

in_background() { # STEP: runs `gpu-bench.sh STEP` detached, after any other builds (one at a time: concurrent
  # builds skew tactic timings); /tmp/large/STEP.done holds each plan's outcome when it has ended
  rm -f "/tmp/large/$1.done"
  local lock=(); command -v flock > /dev/null && lock=(flock /tmp/large/builds.lock)
  setsid "${lock[@]}" bash "$here/gpu-bench.sh" "$1" < /dev/null > "${RESULTS:-/tmp/results}/$1.log" 2>&1 &
  echo "$1 started in the background: ${RESULTS:-/tmp/results}/$1.log, build-*.log; /tmp/large/$1.done when all ended"
}

await() { # STEP SECONDS: waits for in_background STEP to end; fails if it has not (run the step again)
  local waited=0
  while [ ! -f "/tmp/large/$1.done" ] && [ $waited -lt "$2" ]; do sleep 5; waited=$((waited + 5)); done
  echo "waited $waited s for $1: $(tr '\n' ' ' < "/tmp/large/$1.done" 2>/dev/null || echo 'still building: run this step again')"
  [ -f "/tmp/large/$1.done" ]
}

build_plan() { # OUT NAME ARGS...: one logged build-engine run into /tmp/large/NAME.plan, skipped when it exists;
  # appends NAME:outcome to the caller's status array
  local out=$1 name=$2; shift 2
  [ -f "/tmp/large/$name.plan" ] && { status+=("$name:kept"); return; }
  { echo "\$ flink-tensorrt build-engine --save-engine /tmp/large/$name.plan $*"; SECONDS=0
    ft build-engine --save-engine "/tmp/large/$name.plan" "$@"; echo "exit $? after $SECONDS s"; } > "$out/build-${name//\//-}.log" 2>&1
  status+=("$name:$(tail -1 "$out/build-${name//\//-}.log")")
  cp "/tmp/large/$name.plan.json" "$out/${name//\//-}.plan.json" 2>/dev/null
}

random_calibration() { # MODEL DIR: 256 samples drawn as check-engine draws inputs (floats in [-1, 1), ids below
  # 100, masks 0 or 1), raw little-endian, in DIR (a subfolder per input for the BERT-like)
  [ -d "$2" ] || python3 - "$1" "$2" <<'PY'
import os, sys
import numpy as np
model, folder = sys.argv[1], sys.argv[2]
r = np.random.default_rng(24)
for i in range(2):
    if model == "resnet50":
        os.makedirs(folder, exist_ok=True)
        r.uniform(-1, 1, (128, 3, 224, 224)).astype(np.float32).tofile(f"{folder}/input-{i}.raw")
    else:
        for name, high in (("input_ids", 100), ("attention_mask", 2)):
            os.makedirs(f"{folder}/{name}", exist_ok=True)
            r.integers(0, high, (128, 128), dtype=np.int64).tofile(f"{folder}/{name}/{name}-{i}.raw")
PY
}

strongly_typed_builds() { # the background part of strongly-typed-build
  local out=$1 L=/tmp/large m; local status=()
  { echo "\$ python3 models/generate.py --large $L --strongly-typed"; SECONDS=0
    python3 "$here/models/generate.py" --large $L --strongly-typed; echo "exit $? after $SECONDS s"; } > "$out/export-strongly-typed.log" 2>&1
  # shellcheck disable=SC2206 # ST_ARGS: extra build-engine flags, split on spaces
  local extra=(${ST_ARGS:-})
  for m in ${ST_MODELS:-resnet50 bert_like}; do
    for c in $m.timing-cache $m-int8.timing-cache $m.calib-cache; do # from an earlier lease, if kept
      [ -f $L/$c ] || cp "$here/timing-caches/$c" $L/ 2>/dev/null
    done
    build_plan "$out" "$m-st-fp16" --onnx "$L/${m}_fp16.onnx" --strongly-typed --batch-buckets 128 \
      --timing-cache "$L/$m.timing-cache" "${extra[@]}"
    build_plan "$out" "$m-st-int8" --onnx "$L/${m}_qdq.onnx" --strongly-typed --batch-buckets 128 \
      --timing-cache "$L/$m-int8.timing-cache" "${extra[@]}"
    random_calibration "$m" "$L/calib-$m"
    build_plan "$out" "$m-int8" --onnx "$L/$m.onnx" --fp16 --int8 --calib-data "$L/calib-$m" \
      --calib-cache "$L/$m.calib-cache" --batch-buckets 128 --timing-cache "$L/$m-int8.timing-cache" "${extra[@]}"
  done
  printf '%s\n' "${status[@]}" > $L/strongly-typed-builds.done
}

strongly_typed() { # weakly vs strongly typed FP16 and INT8: accuracy against the float32 model, and throughput
  local out=$1 L=/tmp/large m p log
  await strongly-typed-builds "${ST_WAIT_S:-120}" || return 3
  log="$out/strongly-typed.log" # both append: a run per model (ST_MODELS) adds its rows
  [ -f "$out/strongly-typed-summary.txt" ] || echo "plan | max |diff| and top-1 vs ONNX Runtime on the float32 model" \
    "(64 rows) | bench rows at batch 128" > "$out/strongly-typed-summary.txt"
  for m in ${ST_MODELS:-resnet50 bert_like}; do
    for p in $m-fp16 $m-st-fp16 $m-int8 $m-st-int8; do
      [ -f $L/$p.plan ] || { echo "no $L/$p.plan: skipped" | tee -a "$log"; continue; }
      { echo "\$ flink-tensorrt check-engine --engine $L/$p.plan --onnx $L/$m.onnx --rows 64"
        ft check-engine --engine $L/$p.plan --onnx $L/$m.onnx --rows 64; echo "exit $?"
        echo "\$ flink-tensorrt bench --model $L/$p.plan --stages raw,operator --batch-sizes 128 --seconds ${BENCH_SECONDS:-5} --out \$OUT/bench-strongly-typed"
        ft bench --model $L/$p.plan --stages raw,operator --batch-sizes 128 --seconds "${BENCH_SECONDS:-5}" \
          --out "$out/bench-strongly-typed"; echo "exit $?"; } > "$out/strongly-typed-$p.log" 2>&1
      cat "$out/strongly-typed-$p.log" >> "$log"
      echo "$p | $(grep -E '^  .*max \|diff\|' "$out/strongly-typed-$p.log" | paste -sd';') | $(sed -n '/^stage /,/^Wrote/p' \
        "$out/strongly-typed-$p.log" | grep -vE '^(stage|Wrote)' | tr -s ' ' | paste -sd';')" >> "$out/strongly-typed-summary.txt"
    done
  done
  cat "$out/strongly-typed-summary.txt"
}

trt1015_builds() { # the background part of trt1015-build: the 10.6 line builds plans the 10.15 runtime can run
  local out=$1 L=/tmp/large m; local status=()
  mkdir -p $L/vc
  for m in mlp_classifier two_in_two_out token_classifier; do
    build_plan "$out" "vc/$m" --onnx "$here/models/$m.onnx" --batch-buckets 1,8,32 --version-compatible
  done
  for m in ${TRT1015_MODELS:-resnet50 bert_like}; do
    [ -f $L/$m.onnx ] || python3 "$here/models/generate.py" --large $L >> "$out/export.log" 2>&1
    build_plan "$out" "vc/$m-fp16" --onnx "$L/$m.onnx" --fp16 --batch-buckets 1,8,32,128 --version-compatible \
      --timing-cache "$L/$m.timing-cache"
  done
  printf '%s\n' "${status[@]}" > $L/trt1015-builds.done
}

trt1015_app() { # /tmp/trt1015-app: the kit's layout (lib/, test/) with the 10.15 line's jars and test classes
  local app=/tmp/trt1015-app j; rm -rf $app; mkdir -p $app/lib $app/test
  for j in "$here"/lib/*.jar; do
    case $(basename "$j") in flink-tensorrt-*|javacpp-1.5.11*|tensorrt-10.6-*|cuda-12.6-*) ;; *) ln -s "$j" $app/lib/ ;; esac
  done
  ln -s "$here"/trt1015/lib/*.jar $app/lib/
  ln -s "$here"/models $app/ # the tests find models/ above their folder
  ln -s "$here"/trt1015/test/*-classes "$here"/test/lib "$here"/test/gpu-tests.txt "$here"/test/log4j2-gpu-tests.properties $app/test/
  echo $app
}

trt1015() { # OUT: the version-compatible plans on the 10.15 runtime, against ONNX Runtime and the 10.6 runtime
  local out=$1/trt1015 L=/tmp/large V=/tmp/large/vc kit=$here m p
  [ -f /tmp/gpu/trt1015/env.sh ] || { echo "no /tmp/gpu/trt1015: send the parts of scripts/gpu-trt1015.sh pack"; return 2; }
  [ -d "$here/trt1015/lib" ] || { echo "no trt1015/ in the kit: scripts/gpu-bench.sh kit-trt1015 before bundling"; return 2; }
  mkdir -p "$out"
  await trt1015-builds "${TRT1015_WAIT_S:-120}" || return 3
  local host=(--set tensorrt.allow-host-code=true)
  for m in ${TRT1015_MODELS:-resnet50 bert_like}; do # the 10.6 runtime first, on the same plans
    { echo "\$ [10.6] flink-tensorrt bench --model $V/$m-fp16.plan ${host[*]} --stages raw,operator,job --batch-sizes 128 --seconds ${BENCH_SECONDS:-5}"
      ft bench --model $V/$m-fp16.plan "${host[@]}" --stages raw,operator,job --batch-sizes 128 \
        --seconds "${BENCH_SECONDS:-5}" --out "$out/bench-10.6"; echo "exit $?"; } > "$out/bench-10.6-$m.log" 2>&1
  done
  ( # the 10.15 line: its java wrapper (TensorRT 10.15, CUDA 13 runtime) and its jars, the kit's layout
    source /tmp/gpu/trt1015/env.sh
    here=$(trt1015_app)
    java -version > "$out/java.txt" 2>&1
    ft doctor > "$out/doctor.txt" 2>&1
    for p in mlp_classifier two_in_two_out token_classifier; do
      echo "\$ flink-tensorrt check-engine --engine $V/$p.plan --onnx models/$p.onnx --rows 32 ${host[*]}"
      ft check-engine --engine $V/$p.plan --onnx "$kit/models/$p.onnx" --rows 32 "${host[@]}"
      echo "exit $?"
    done > "$out/check-engine.log" 2>&1
    for m in ${TRT1015_MODELS:-resnet50 bert_like}; do
      { echo "\$ flink-tensorrt check-engine --engine $V/$m-fp16.plan --onnx $L/$m.onnx --rows 64 ${host[*]}"
        ft check-engine --engine $V/$m-fp16.plan --onnx $L/$m.onnx --rows 64 "${host[@]}"; echo "exit $?"; } >> "$out/check-engine.log" 2>&1
    done
    GPU_TESTS=TensorRtAgreementGpuTest TESTS_JAVA_OPTS="-Dflinktrt.agreement.plans=$V ${TESTS_JAVA_OPTS:-}" tests "$out"
    for m in ${TRT1015_MODELS:-resnet50 bert_like}; do
      { echo "\$ [10.15] flink-tensorrt bench --model $V/$m-fp16.plan ${host[*]} --stages raw,operator,job --batch-sizes 128 --seconds ${BENCH_SECONDS:-5}"
        ft bench --model $V/$m-fp16.plan "${host[@]}" --stages raw,operator,job --batch-sizes 128 \
          --seconds "${BENCH_SECONDS:-5}" --out "$out/bench-10.15"; echo "exit $?"; } > "$out/bench-10.15-$m.log" 2>&1
    done
  )
  grep -E 'TensorRT|CUDA|line' "$out/doctor.txt" | head -8
  grep -E '^\$|max \|diff\||^exit|check-engine:' "$out/check-engine.log"
  for m in ${TRT1015_MODELS:-resnet50 bert_like}; do sed -n '/^stage /,/^Wrote/p' "$out"/bench-10.6-$m.log "$out"/bench-10.15-$m.log; done
}

tests() { # OUT: every gpu-tagged test class, one JVM, the JUnit console's tree and the tests' own output
  local out=$1 t; local select=()
  cd "$here"
  # GPU_TESTS="Class1 Class2#method" (simple names) runs only those, e.g. memory tests alone on an idle GPU
  while read -r t; do
    [ -n "$t" ] || continue
    if [ -z "${GPU_TESTS:-}" ] || [[ " $GPU_TESTS " == *" ${t##*.} "* ]]; then select+=(--select-class "$t"); continue; fi
    for m in $GPU_TESTS; do [ "${m%%#*}" = "${t##*.}" ] && [ "$m" != "${m%%#*}" ] && select+=(--select-method "$t#${m#*#}"); done
  done < test/gpu-tests.txt
  local cycle=(); [ -f /tmp/large/resnet50-fp16.plan ] && cycle=(-Dflinktrt.cycle.plan=/tmp/large/resnet50-fp16.plan)
  # shellcheck disable=SC2206 # TESTS_JAVA_OPTS: extra JVM flags, split on spaces
  local extra=(${TESTS_JAVA_OPTS:-})
  local cmd=(java --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED -Xmx16g -XX:ErrorFile="$out/hs_err_pid%p.log" -Dorg.bytedeco.javacpp.maxPhysicalBytes=0
    -Dlog4j2.configurationFile=test/log4j2-gpu-tests.properties "${cycle[@]}" "${extra[@]}"
    -cp "test/lib/*:test/tools-classes:test/job-classes:test/flink-classes:test/engine-builder-classes:test/runtime-classes:lib/*"
    org.junit.platform.console.ConsoleLauncher execute --include-tag gpu --details=tree --details-theme=ascii
    --disable-banner --disable-ansi-colors "${select[@]}")
  SECONDS=0
  { date -u; nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv
    echo "\$ ${cmd[*]}"; timeout "${TESTS_TIMEOUT_S:-540}" "${cmd[@]}"; echo "exit $? after $SECONDS s"
    nvidia-smi --query-gpu=memory.used,memory.total --format=csv; } > "$out/gpu-tests.log" 2>&1
  local rc; rc=$(sed -n 's/^exit \([0-9]*\) after.*/\1/p' "$out/gpu-tests.log" | tail -1)
  { echo "gpu-tests exit ${rc:-?} after $SECONDS s: $(grep -E '^\[ *[0-9]+ (tests (found|successful|failed|aborted)|containers failed)' \
      "$out/gpu-tests.log" | tr -s ' []' ' ' | sed 's/^ //; s/ $//' | paste -sd, -)"
    grep -F '[X]' "$out/gpu-tests.log" | head -20
    ls "$out"/hs_err_pid*.log 2>/dev/null | sed 's/^/the JVM crashed: /'
    grep -E '^(open/close cycles|throughput of|out-of-memory|restart cycles|runner cycles)' "$out/gpu-tests.log"
  } > "$out/gpu-tests-summary.txt"
  cat "$out/gpu-tests-summary.txt"
}

case ${1:-} in
  kit) kit ;;
  kit-trt1015) kit_trt1015 ;;
  engines|local|bench-resnet|bench-bert|bench-128|swap|text-lengths|text-ratios|sql-bert|graphs-off|pack|tests|images-build|images-builds|images-bench|images-jpeg|images-agreement|images-decode|cluster) step "$1" ;;
  strongly-typed-build|strongly-typed-builds|strongly-typed|trt1015-build|trt1015-builds|trt1015) step "$1" ;;
  *) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 2 ;;
esac
