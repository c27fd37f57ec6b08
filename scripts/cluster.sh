#!/usr/bin/env bash
# A Flink 2.2.1 standalone session cluster and a Kafka 4.2 broker on this machine, each in its own JVM,
# from Maven artifacts only: the way to try the cluster path without a Flink or Kafka installation.
#
#   scripts/cluster.sh up                 builds what is missing, starts Kafka (KRaft), a JobManager and
#                                         $TASK_MANAGERS TaskManagers, creates the topics, prints the addresses
#   scripts/cluster.sh flink ARGS...      Flink's CLI (CliFrontend) against this cluster, e.g.
#       scripts/cluster.sh flink run -d -p 2 jobs/job/target/flink-tensorrt-job.jar \
#           --bootstrap-servers localhost:PORT --model models/mlp_classifier.onnx
#       scripts/cluster.sh flink list | stop --savepointPath DIR JOB_ID | cancel JOB_ID | run -s SAVEPOINT ...
#   scripts/cluster.sh env                BOOTSTRAP_SERVERS=... and REST_URL=... of the running cluster
#   scripts/cluster.sh rest PATH          GET PATH from Flink's REST API (e.g. /jobs/overview), the JSON body
#   scripts/cluster.sh topics NAME...     creates topics ($PARTITIONS partitions each)
#   scripts/cluster.sh kill-taskmanager N | start-taskmanager N    SIGKILL / start TaskManager N (1-based)
#   scripts/cluster.sh stop-kafka | kill-kafka | start-kafka        stop (SIGTERM) / kill (SIGKILL, a crash) / start the broker again
#   scripts/cluster.sh metrics            with METRICS=prometheus: each Flink process's /metrics address
#   scripts/cluster.sh down               stops everything (the directory stays for its logs)
#
# Everything lives in $CLUSTER_HOME (default target/cluster): flink/{lib,conf,log,plugins}, kafka/, pids.
# Settings (environment, read by `up`): TASK_MANAGERS (2), TASK_SLOTS (1), PARTITIONS (2), TOPICS
# (inference-requests inference-results inference-dead-letter), JM_PROCESS_SIZE (1024m),
# TM_PROCESS_SIZE (1280m), FLINK_CONF_EXTRA (a file of config.yaml lines to append), FLINK_PLUGINS
# (a plugins/ directory to use), ORT_NATIVE_DIR (ONNX Runtime's natives, unpacked), FLINK_DIST_LIB,
# FLINK_TRT_LIB, KAFKA_LIBS, JOB_JAR (the jars; defaults: the build's).
# METRICS=prometheus turns on Flink's Prometheus reporter in every Flink process: each takes the first free
# port of METRICS_PORTS (9249-9260; one port for all would leave every process but the first without a
# reporter), and `up` and `metrics` print which; METRICS_PLUGIN is the reporter's plugin directory (default:
# the build's jobs/flink-dist/target/flink-dist/plugins/metrics-prometheus).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${CLUSTER_HOME:-$root/target/cluster}
dist_lib=${FLINK_DIST_LIB:-$root/jobs/flink-dist/target/flink-dist/lib}
trt_lib=${FLINK_TRT_LIB:-$root/jobs/job/target/flink-lib}
kafka_libs=${KAFKA_LIBS:-$root/jobs/tools/target/lib}
job_jar=${JOB_JAR:-$root/jobs/job/target/flink-tensorrt-job.jar}
metrics_plugin=${METRICS_PLUGIN:-$root/jobs/flink-dist/target/flink-dist/plugins/metrics-prometheus}
flink=$home/flink
kafka=$home/kafka
# Where Flink's daemons look for plugins/ (the GPU driver's discovery script path is relative to FLINK_HOME).
export FLINK_HOME=$flink FLINK_CONF_DIR=$flink/conf FLINK_LIB_DIR=$flink/lib FLINK_PLUGINS_DIR=$flink/plugins

die() { echo "cluster.sh: $*" >&2; exit 1; }

# Flink's own list from the distribution's config.yaml (Java 17 module access); ours is appended to it.
FLINK_JAVA_OPTS="--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"

free_port() { # a port nobody listens on (probed, then left to the process that binds it)
  # below the kernel's ephemeral range: a port picked inside it was once taken by an outgoing connection
  # before the broker bound it ("Address already in use" on the H200 host)
  local p low; low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 11000 ] || low=32768
  for _ in $(seq 100); do
    p=$((10000 + RANDOM % (low - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free port found"
}

build() { # what `up` needs from the build: Flink's lib/, our flink-lib/, the tools' classpath (broker) and the job jar
  if [ ! -d "$dist_lib" ] || [ ! -d "$trt_lib" ] || [ ! -d "$kafka_libs" ] || [ ! -f "$job_jar" ]; then
    [ -f "$root/pom.xml" ] || die "missing $dist_lib, $trt_lib, $kafka_libs or $job_jar"
    echo "Building (mvn -B -q package -DskipTests) ..." >&2
    (cd "$root" && mvn -B -q package -DskipTests) >&2
  fi
}

pid_alive() { [ -f "$home/$1.pid" ] && kill -0 "$(cat "$home/$1.pid")" 2>/dev/null; }

load_env() { [ -f "$home/cluster.env" ] || die "no cluster in $home: run scripts/cluster.sh up"; source "$home/cluster.env"; }

# The JVM flags and dynamic properties Flink's start scripts compute from config.yaml (BashJavaUtils).
memory_params() { # $1 GET_JM_RESOURCE_PARAMS | GET_TM_RESOURCE_PARAMS -> $home/<which>.params (two lines)
  local out="$home/$1.params"
  [ -f "$out" ] && return
  java -cp "$flink/lib/*" -Dlog4j.configurationFile=file:"$flink/conf/log4j-cli.properties" \
      org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$flink/conf" \
    | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' | tail -2 > "$out"
  [ "$(wc -l < "$out")" = 2 ] || { rm -f "$out"; die "BashJavaUtils $1 failed; see $flink/conf"; }
}

java_opts() { # env.java.opts.all from config.yaml, as Flink's scripts read it
  sed -n 's/^env\.java\.opts\.all: *//p' "$flink/conf/config.yaml"
}

start_flink() { # $1 name (its log and pid file), $2 GET_JM_RESOURCE_PARAMS | GET_TM_RESOURCE_PARAMS, $3 entry point, then dynamic properties
  local name=$1 params=$2 entrypoint=$3; shift 3
  pid_alive "$name" && die "$name is running (pid $(cat "$home/$name.pid"))"
  memory_params "$params"
  local jvm dyn; jvm=$(sed -n 1p "$home/$params.params"); dyn=$(sed -n 2p "$home/$params.params")
  cd "$flink"
  # shellcheck disable=SC2086 # flag lists, split on spaces as Flink's scripts do
  nohup java $jvm $(java_opts) -Dlog.file="$flink/log/$name.log" \
      -Dlog4j.configuration=file:"$flink/conf/log4j.properties" -Dlog4j.configurationFile=file:"$flink/conf/log4j.properties" \
      -cp "$flink/lib/*" "$entrypoint" --configDir "$flink/conf" $dyn "$@" >> "$flink/log/$name.out" 2>&1 &
  echo $! > "$home/$name.pid"
}

start_jobmanager() { start_flink jobmanager GET_JM_RESOURCE_PARAMS org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint; }

start_taskmanager() { # $1: 1-based number; $2: its resource id, taskmanager-N by default
  start_flink "taskmanager-$1" GET_TM_RESOURCE_PARAMS org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
    -D taskmanager.resource-id="${2:-taskmanager-$1}"
}

start_kafka() {
  pid_alive kafka && die "kafka is running (pid $(cat "$home/kafka.pid"))"
  nohup java -Xms256m -Xmx512m -Dlog4j2.configurationFile="$kafka/log4j2.properties" -Dkafka.logs.dir="$kafka" \
      -cp "$kafka_libs/*" kafka.Kafka "$kafka/server.properties" >> "$kafka/kafka.out" 2>&1 &
  echo $! > "$home/kafka.pid"
}

wait_for() { # $1 seconds, $2 what, then a command that succeeds when ready
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what not ready after $limit s; logs in $home"
    sleep 1
  done
}

rest() ( # GET $1 from Flink's REST API, the body on stdout (bash's /dev/tcp: bare hosts have no curl)
  exec 3<>"/dev/tcp/localhost/$REST_PORT" || exit 1
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
  response=$(cat <&3)
  case $response in "HTTP/1."?" 200"*) printf '%s\n' "${response#*$'\r\n\r\n'}" ;; *) exit 1 ;; esac
)

taskmanager_registered() { rest /taskmanagers | grep -q "\"id\":\"$1\""; }

metrics_addresses() { # the port each Flink process's Prometheus reporter took, from its log (the latest start's)
  grep -q '^metrics.reporter.prom.factory.class:' "$flink/conf/config.yaml" \
    || { echo "no metrics reporter: start the cluster with METRICS=prometheus scripts/cluster.sh up"; return; }
  local log name port
  for log in "$flink/log/jobmanager.log" "$flink"/log/taskmanager-*.log; do
    [ -f "$log" ] || continue
    name=$(basename "$log" .log)
    pid_alive "$name" || { echo "metrics: $name is not running"; continue; }
    port=$(sed -n 's/.*Started PrometheusReporter HTTP server on port \([0-9]*\)\..*/\1/p' "$log" | tail -1)
    if [ -n "$port" ]; then echo "metrics: $name http://localhost:$port/metrics"
    else echo "metrics: $name has no reporter (every port of metrics.reporter.prom.port taken?); see $log"; fi
  done
}

# Waits until $4... succeeds while process $1 runs. On a machine short of CPU, Pekko's remoting can miss
# its fixed 10 s start-up timeout and the process exits: then it is started again ($2), twice at most.
wait_started() { # $1 name, $2 command that starts it, $3 what, then the readiness check
  local name=$1 start=$2 what=$3 attempt=1 deadline=$((SECONDS + 180)); shift 3
  until "$@" > /dev/null 2>&1; do
    if ! pid_alive "$name"; then
      [ $attempt -lt 3 ] || die "$name exited during start $attempt times; see $flink/log/$name.log"
      echo "cluster.sh: $name exited during start (see $flink/log/$name.log); starting it again" >&2
      attempt=$((attempt + 1)); rm -f "$home/$name.pid"; $start
    fi
    [ $SECONDS -lt $deadline ] || die "$what not ready after 180 s; logs in $home"
    sleep 1
  done
}

kafka_topics() { # Kafka's kafka-topics.sh
  java -Dlog4j2.configurationFile="$kafka/log4j2-tools.properties" -cp "$kafka_libs/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP_SERVERS" "$@"
}

create_topics() {
  local t
  for t in "$@"; do
    kafka_topics --create --if-not-exists --topic "$t" --partitions "${PARTITIONS:-2}" --replication-factor 1
  done
}

write_config() {
  mkdir -p "$flink/conf" "$flink/log" "$flink/native/onnxruntime" "$flink/tmp" "$kafka/data"
  # Flink's lib/: the distribution's jars plus ours (JavaCPP, TensorRT, CUDA, ONNX Runtime: loaded once per JVM).
  rm -rf "$flink/lib"; mkdir -p "$flink/lib"
  ln -s "$dist_lib"/*.jar "$trt_lib"/*.jar "$flink/lib/"
  # plugins/: each plugin of FLINK_PLUGINS, and with METRICS=prometheus the reporter's
  rm -rf "$flink/plugins"; mkdir -p "$flink/plugins"
  local plugin
  if [ -n "${FLINK_PLUGINS:-}" ]; then
    for plugin in "$(cd "$FLINK_PLUGINS" && pwd)"/*; do if [ -e "$plugin" ]; then ln -s "$plugin" "$flink/plugins/"; fi; done
  fi
  case ${METRICS:-} in
    '') ;;
    prometheus)
      ls "$metrics_plugin"/flink-metrics-prometheus-*.jar > /dev/null 2>&1 \
        || die "no flink-metrics-prometheus jar in $metrics_plugin (mvn -B -q package -DskipTests -pl jobs/flink-dist builds it)"
      ln -s "$(cd "$metrics_plugin" && pwd)" "$flink/plugins/metrics-prometheus" ;;
    *) die "METRICS=$METRICS: only METRICS=prometheus is known" ;;
  esac
  # ONNX Runtime's natives, unpacked once (or given as ORT_NATIVE_DIR): with onnxruntime.native.path it loads
  # them from there instead of unpacking 20 MB into a new /tmp/onnxruntime-java* folder on every start.
  if [ -n "${ORT_NATIVE_DIR:-}" ]; then ln -s "$ORT_NATIVE_DIR"/* "$flink/native/onnxruntime/"
  else (cd "$flink/native/onnxruntime" && jar xf "$(ls "$trt_lib"/onnxruntime-*.jar)" ai/onnxruntime/native/linux-x64 \
          && mv ai/onnxruntime/native/linux-x64/* . && rm -r ai); fi
  cat > "$flink/conf/config.yaml" <<YAML
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $JM_RPC_PORT
jobmanager.bind-host: localhost
taskmanager.bind-host: localhost
taskmanager.host: localhost
rest.address: localhost
rest.bind-address: localhost
rest.port: $REST_PORT
jobmanager.memory.process.size: ${JM_PROCESS_SIZE:-1024m}
taskmanager.memory.process.size: ${TM_PROCESS_SIZE:-1280m}
taskmanager.memory.managed.size: 0m
taskmanager.numberOfTaskSlots: ${TASK_SLOTS:-1}
parallelism.default: 1
# Patience for a loaded machine (a 2-core CI runner starts four JVMs at once): the RPC system's start
# and its calls get more than the 10 s defaults.
pekko.startup-timeout: 60 s
pekko.lookup.timeout: 60 s
pekko.tcp.timeout: 60 s
pekko.ask.timeout: 30 s
io.tmp.dirs: $flink/tmp
execution.checkpointing.dir: file://$flink/checkpoints
execution.checkpointing.savepoint-dir: file://$flink/savepoints
# Flink's list, then ours: JavaCPP must not count CUDA/TensorRT mappings against a heap-derived cap, and
# ONNX Runtime loads its natives from one directory instead of unpacking them on every start.
env.java.opts.all: $FLINK_JAVA_OPTS -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Donnxruntime.native.path=$flink/native/onnxruntime
YAML
  if [ "${METRICS:-}" = prometheus ]; then
    # A range, not one port: JobManager and TaskManagers share this host, and a process whose port is taken
    # runs on without a reporter (it only logs it).
    printf 'metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory\nmetrics.reporter.prom.port: %s\n' \
      "${METRICS_PORTS:-9249-9260}" >> "$flink/conf/config.yaml"
  fi
  if [ -n "${FLINK_CONF_EXTRA:-}" ]; then cat "$FLINK_CONF_EXTRA" >> "$flink/conf/config.yaml"; fi
  # Daemons log to log/<name>.log; the CLI to log/client.log, printing only what the command prints.
  cat > "$flink/conf/log4j.properties" <<'PROPS'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.fileName = ${sys:log.file}
appender.main.append = true
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
# Flink 2.2.1's committer registers 'pendingCommittables' again on every checkpoint (FLINK-35321), the Kafka
# writer 'currentSendTime' again at its start: those WARNs only, other name collisions still show
# (docs/operations.md).
logger.metriccollision.name = org.apache.flink.metrics.MetricGroup
logger.metriccollision.filter.pending.type = RegexFilter
logger.metriccollision.filter.pending.regex = .*'(pendingCommittables|currentSendTime)'.*
logger.metriccollision.filter.pending.onMatch = DENY
logger.metriccollision.filter.pending.onMismatch = NEUTRAL
PROPS
  sed "s#\${sys:log.file}#$flink/log/client.log#" "$flink/conf/log4j.properties" > "$flink/conf/log4j-cli.properties"
  cat > "$kafka/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://localhost:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  cat > "$kafka/log4j2.properties" <<PROPS
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = File
appender.file.name = File
appender.file.type = File
appender.file.fileName = $kafka/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
PROPS
  printf 'rootLogger.level = ERROR\nrootLogger.appenderRef.console.ref = Console\nappender.console.name = Console\nappender.console.type = Console\nappender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = %%m%%n\n' \
    > "$kafka/log4j2-tools.properties"
}

up() {
  if [ -f "$home/cluster.env" ] && pid_alive jobmanager; then die "a cluster runs in $home; scripts/cluster.sh down first"; fi
  build
  rm -rf "$home"; mkdir -p "$home"
  cat > "$home/cluster.env" <<ENV
REST_PORT=$(free_port)
JM_RPC_PORT=$(free_port)
KAFKA_PORT=$(free_port)
KAFKA_CONTROLLER_PORT=$(free_port)
ENV
  source "$home/cluster.env"
  printf 'REST_URL=http://localhost:%s\nBOOTSTRAP_SERVERS=localhost:%s\n' "$REST_PORT" "$KAFKA_PORT" >> "$home/cluster.env"
  source "$home/cluster.env"
  write_config
  local started=$SECONDS n
  java -Dlog4j2.configurationFile="$kafka/log4j2-tools.properties" -cp "$kafka_libs/*" kafka.tools.StorageTool format \
    -t 4L6g3nShT-eMCtK--X86sw -c "$kafka/server.properties" > "$kafka/format.out" 2>&1 \
    || die "formatting Kafka's log directory failed: $(cat "$kafka/format.out")"
  start_kafka
  start_jobmanager
  for n in $(seq "${TASK_MANAGERS:-2}"); do start_taskmanager "$n"; done
  wait_started jobmanager start_jobmanager "the JobManager's REST API ($REST_URL)" rest /overview
  for n in $(seq "${TASK_MANAGERS:-2}"); do
    wait_started "taskmanager-$n" "start_taskmanager $n" "taskmanager-$n" taskmanager_registered "taskmanager-$n"
  done
  # shellcheck disable=SC2086 # TOPICS: names separated by spaces
  wait_for 60 "Kafka ($BOOTSTRAP_SERVERS)" create_topics ${TOPICS-inference-requests inference-results inference-dead-letter}
  echo "cluster up in $((SECONDS - started)) s: Flink REST $REST_URL (${TASK_MANAGERS:-2} TaskManagers x ${TASK_SLOTS:-1} slots), Kafka $BOOTSTRAP_SERVERS; logs in $home"
  echo "submit: scripts/cluster.sh flink run -d -p 2 $job_jar --bootstrap-servers $BOOTSTRAP_SERVERS --model models/mlp_classifier.onnx"
  [ -z "${METRICS:-}" ] || metrics_addresses
}

stop() { # $1 name, $2 signal
  if pid_alive "$1"; then
    local pid; pid=$(cat "$home/$1.pid"); kill "-$2" "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$home/$1.pid"
}

down() {
  local f
  for f in "$home"/taskmanager-*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)" TERM; done
  stop jobmanager TERM
  stop kafka TERM
  echo "cluster down; logs stay in $home"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
  up) up ;;
  down) down ;;
  rest) load_env; rest "${1:?PATH}" ;;
  env) load_env; printf 'BOOTSTRAP_SERVERS=%s\nREST_URL=%s\n' "$BOOTSTRAP_SERVERS" "$REST_URL" ;;
  flink) load_env
    # shellcheck disable=SC2046,SC2086
    exec java $(java_opts) -Dlog.file="$flink/log/client.log" \
      -Dlog4j.configurationFile=file:"$flink/conf/log4j-cli.properties" \
      -cp "$flink/lib/*" org.apache.flink.client.cli.CliFrontend "$@" ;;
  topics) load_env; create_topics "$@" ;;
  kill-taskmanager) load_env; stop "taskmanager-${1:?N}" KILL ;;
  # A TaskManager started again (after kill-taskmanager) gets a resource id of its own: under the killed
  # one's id, the H200 run saw the new process dropped by the ResourceManager 11 s after it started,
  # when the loss of the killed one was handled, and the job failed over a second time.
  start-taskmanager) load_env; start_taskmanager "${1:?N}" "taskmanager-$1-restarted-$(date +%s)" ;;
  stop-kafka) load_env; stop kafka TERM ;;
  kill-kafka) load_env; stop kafka KILL ;;
  metrics) load_env; metrics_addresses ;;
  start-kafka) load_env; start_kafka; wait_for 60 "Kafka ($BOOTSTRAP_SERVERS)" kafka_topics --list ;;
  *) sed -n 2,28p "$0"; [ "$cmd" = --help ] || [ "$cmd" = -h ]; exit $? ;;
esac
