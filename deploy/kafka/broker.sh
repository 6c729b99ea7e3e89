#!/usr/bin/env bash
# Run a local single-node Apache Kafka 4.1.1 broker in KRaft mode (broker and controller in one
# JVM) on 127.0.0.1 for the streamproc demo and integration tests. Run with --help for usage.
set -euo pipefail

readonly KAFKA_VERSION=4.1.1
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly SCRIPT_DIR
readonly POM_FILE=$SCRIPT_DIR/pom.xml
readonly LOG4J_CONFIG=$SCRIPT_DIR/log4j2.xml
readonly HOST=127.0.0.1
readonly STOP_TIMEOUT_SECONDS=30

usage() {
  cat <<EOF
Usage: broker.sh COMMAND [ARGS]

Run a local single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft, broker and controller in one
JVM) that listens on ${HOST} only. Needs Java 17 or newer, and Maven for the first fetch.

Commands:
  fetch                       Download the Kafka jars into the jar cache (skipped when complete).
  start                       Fetch if needed, format the storage once, start the broker in the
                              background and wait until it responds to an admin request.
                              Prints the bootstrap servers and the log file.
                              Exits 0 if it is already running.
  stop                        Stop the broker of the data directory (SIGTERM, then SIGKILL after
                              ${STOP_TIMEOUT_SECONDS} s). Exits 0 when none is running.
  status                      Print the bootstrap servers and exit 0 if the broker of the data
                              directory is running and its port accepts connections, else exit 1.
  create-topics NAME[:PARTITIONS] ...
                              Create the topics that do not exist yet, with replication factor 1.
                              Fails if an existing topic has another partition count.
  -h, --help                  Show this help.

Environment variables:
  STREAMPROC_KAFKA_HOME             Jar cache; jars go to its libs/ folder.
                                    Default: \$HOME/.cache/streamproc/kafka-${KAFKA_VERSION}
  STREAMPROC_KAFKA_DATA_DIR         Data directory: KRaft log dirs, server.properties, pid file.
                                    Default: \${XDG_STATE_HOME:-\$HOME/.local/state}/streamproc/kafka
  STREAMPROC_KAFKA_LOG_DIR          Directory of the broker's own log file, server.log.
                                    Default: <data directory>/logs
  STREAMPROC_KAFKA_PORT             Client (PLAINTEXT) port. Default: 9092
  STREAMPROC_KAFKA_CONTROLLER_PORT  KRaft controller port. Default: client port + 1
  STREAMPROC_KAFKA_HEAP             Broker heap, used for -Xms and -Xmx. Default: 768m
  STREAMPROC_KAFKA_START_TIMEOUT    Seconds that start waits for the broker to be ready. Default: 90
  STREAMPROC_KAFKA_PARTITIONS       Partition count for create-topics when a name has none.
                                    Default: 8
  JAVA_HOME                         If set, \$JAVA_HOME/bin/java is used instead of java on PATH.

The data directory selects the broker: status, stop and create-topics act on the broker started
with it, on the port it was started with. Two brokers can run at once when they have different
data directories and ports, for example:
  STREAMPROC_KAFKA_DATA_DIR=/tmp/kafka-test STREAMPROC_KAFKA_PORT=19092 broker.sh start
EOF
}

die() {
  echo "broker.sh: error: $*" >&2
  exit 1
}

note() {
  echo "broker.sh: $*" >&2
}

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

require_positive_integer() {
  local name=$1 value=$2
  [[ $value =~ ^[1-9][0-9]*$ ]] \
    || die "$name must be a positive integer, got '$value'"
}

require_port() {
  local name=$1 value=$2
  [[ $value =~ ^[1-9][0-9]*$ && $value -le 65535 ]] \
    || die "$name must be a port number from 1 to 65535, got '$value'"
}

absolute_path() {
  local path=$1
  if [[ $path == /* ]]; then
    echo "$path"
  else
    echo "$PWD/$path"
  fi
}

# flock, setsid and timeout come with util-linux and GNU coreutils on Linux.
require_commands() {
  local command
  for command in flock ps setsid sha256sum timeout; do
    command -v "$command" >/dev/null \
      || die "$command not found on PATH; install util-linux, procps and coreutils"
  done
}

load_settings() {
  if [[ -z ${HOME:-} && (-z ${STREAMPROC_KAFKA_HOME:-} || -z ${STREAMPROC_KAFKA_DATA_DIR:-}) ]]; then
    die "HOME is not set, so set STREAMPROC_KAFKA_HOME and STREAMPROC_KAFKA_DATA_DIR"
  fi
  KAFKA_HOME=$(absolute_path "${STREAMPROC_KAFKA_HOME:-$HOME/.cache/streamproc/kafka-$KAFKA_VERSION}")
  LIBS_DIR=$KAFKA_HOME/libs
  local state_home=${XDG_STATE_HOME:-${HOME:-}/.local/state}
  DATA_DIR=$(absolute_path "${STREAMPROC_KAFKA_DATA_DIR:-$state_home/streamproc/kafka}")
  LOG_DIR=$(absolute_path "${STREAMPROC_KAFKA_LOG_DIR:-$DATA_DIR/logs}")

  PORT=${STREAMPROC_KAFKA_PORT:-9092}
  require_port STREAMPROC_KAFKA_PORT "$PORT"
  CONTROLLER_PORT=${STREAMPROC_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
  require_port STREAMPROC_KAFKA_CONTROLLER_PORT "$CONTROLLER_PORT"
  [[ $PORT != "$CONTROLLER_PORT" ]] \
    || die "STREAMPROC_KAFKA_CONTROLLER_PORT must differ from STREAMPROC_KAFKA_PORT, both are $PORT"

  HEAP=${STREAMPROC_KAFKA_HEAP:-768m}
  [[ $HEAP =~ ^[0-9]+[kKmMgG]?$ ]] \
    || die "STREAMPROC_KAFKA_HEAP must be a JVM memory size such as 768m or 1g, got '$HEAP'"
  START_TIMEOUT=${STREAMPROC_KAFKA_START_TIMEOUT:-90}
  require_positive_integer STREAMPROC_KAFKA_START_TIMEOUT "$START_TIMEOUT"
  DEFAULT_PARTITIONS=${STREAMPROC_KAFKA_PARTITIONS:-8}
  require_positive_integer STREAMPROC_KAFKA_PARTITIONS "$DEFAULT_PARTITIONS"

  JAVA=java
  if [[ -n ${JAVA_HOME:-} ]]; then
    JAVA=$JAVA_HOME/bin/java
  fi
  # Kafka's command-line tools are short-lived, so they get a small heap and the fast-starting
  # JIT tier only. Without -Dkafka.logs.dir, log4j2.xml sends their warnings to stderr.
  TOOL_JAVA=("$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dstreamproc.kafka.log.level=WARN
    -cp "$LIBS_DIR/*")

  BOOTSTRAP=$HOST:$PORT
  KRAFT_LOG_DIR=$DATA_DIR/kraft-combined-logs
  SERVER_PROPERTIES=$DATA_DIR/server.properties
  ADMIN_PROPERTIES=$DATA_DIR/admin.properties
  PID_FILE=$DATA_DIR/broker.pid
  LOG_FILE=$LOG_DIR/server.log
  # The JVM's own stdout and stderr since the last start, which catch fatal JVM errors and
  # errors raised before log4j starts.
  CONSOLE_FILE=$LOG_DIR/console.log
}

# ---------------------------------------------------------------------------------------------
# Jars
# ---------------------------------------------------------------------------------------------

# The marker contains the POM's checksum, so editing pom.xml makes the next fetch download again.
expected_marker() {
  echo "kafka ${KAFKA_VERSION} pom-sha256 $(sha256sum <"$POM_FILE" | cut -d' ' -f1)"
}

jars_are_complete() {
  [[ -f $LIBS_DIR/.complete && $(cat "$LIBS_DIR/.complete") == "$(expected_marker)" ]]
}

fetch_jars() {
  if jars_are_complete; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found on PATH; install Maven 3.6 or newer to fetch the Kafka jars"
  mkdir -p "$KAFKA_HOME"

  # Two callers (a test run and the demo) may fetch at once, so the second waits for the lock
  # and then finds the cache complete.
  exec 7>"$KAFKA_HOME/.fetch.lock"
  flock -w 900 7 || die "timed out waiting for another fetch into $KAFKA_HOME"
  if jars_are_complete; then
    exec 7>&-
    return 0
  fi

  # Copy into a fresh folder and swap it in, so a failed or interrupted download never leaves a
  # half-filled libs/ folder, and jars of an older pom.xml do not stay on the classpath.
  note "fetching Kafka ${KAFKA_VERSION} jars into $LIBS_DIR"
  local staging
  staging=$(mktemp -d "$KAFKA_HOME/libs.staging.XXXXXX")
  if ! mvn -q -B -f "$POM_FILE" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$staging" >&2; then
    rm -rf "$staging"
    die "mvn failed to fetch the Kafka jars (see its output above); check that Maven Central is reachable"
  fi
  expected_marker >"$staging/.complete"
  rm -rf "$LIBS_DIR"
  mv "$staging" "$LIBS_DIR"
  exec 7>&-
}

cmd_fetch() {
  fetch_jars
  note "the Kafka ${KAFKA_VERSION} jars are in $LIBS_DIR"
}

# ---------------------------------------------------------------------------------------------
# Processes and ports
# ---------------------------------------------------------------------------------------------

# Succeed if the process is alive. A zombie counts as dead, because a broker that this shell started
# stays a zombie until the shell reaps it.
is_alive() {
  local pid=$1 state
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# Succeed if the pid belongs to a broker started with this data directory's server.properties, so a
# pid reused by an unrelated process is never signalled.
is_our_broker() {
  local pid=$1 args
  is_alive "$pid" || return 1
  args=$(ps -ww -o args= -p "$pid" 2>/dev/null) || return 1
  [[ $args == *kafka.Kafka\ "$SERVER_PROPERTIES"* ]]
}

# Print the client port that the broker of this data directory was last started with.
started_port() {
  [[ -f $SERVER_PROPERTIES ]] || return 0
  sed -n 's|^advertised\.listeners=PLAINTEXT://.*:\([0-9]*\)$|\1|p' "$SERVER_PROPERTIES"
}

# Print the pid from the pid file if it names a live broker of this data directory.
running_pid() {
  local pid
  [[ -f $PID_FILE ]] || return 1
  pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  is_our_broker "$pid" || return 1
  echo "$pid"
}

port_is_open() {
  local port=$1
  # shellcheck disable=SC2016 # $0 and $1 expand in the inner bash.
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$port" 2>/dev/null
}

# Send a metadata request through the admin client and succeed if the broker responds. The port
# opens before the broker can serve requests, so an open port alone does not mean ready.
broker_responds() {
  local seconds=$1
  timeout "$seconds" "${TOOL_JAVA[@]}" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_PROPERTIES" --list \
    >/dev/null 2>&1
}

# Send SIGTERM, wait for the controlled shutdown, then SIGKILL.
terminate() {
  local pid=$1 waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while is_alive "$pid" && ((waited < STOP_TIMEOUT_SECONDS * 2)); do
    sleep 0.5
    waited=$((waited + 1))
  done
  if is_alive "$pid"; then
    note "the broker (pid $pid) did not stop within ${STOP_TIMEOUT_SECONDS} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
}

# Serialise start and stop for one data directory, so two concurrent starts cannot launch two
# JVMs on the same log dirs. Fd 8 is closed in the broker process, which must not hold the lock.
lock_data_dir() {
  mkdir -p "$DATA_DIR"
  exec 8>"$DATA_DIR/.broker.lock"
  flock -w "$((START_TIMEOUT + STOP_TIMEOUT_SECONDS))" 8 \
    || die "timed out waiting for another broker.sh start or stop on $DATA_DIR"
}

# ---------------------------------------------------------------------------------------------
# Configuration and storage
# ---------------------------------------------------------------------------------------------

# Written on every start, so a changed port or heap takes effect on the next start.
write_server_properties() {
  cat >"$SERVER_PROPERTIES" <<EOF
# Written by broker.sh on every start, so edits here are lost at the next start.

# One JVM acts as broker and as the only controller of a static KRaft quorum.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}

# Loopback only.
listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${BOOTSTRAP}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT

log.dirs=${KRAFT_LOG_DIR}

# One broker, so every replication factor and min ISR is 1. With the defaults of 3, consumer
# groups and transactions fail because their internal topics cannot be created.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Fewer internal partitions than the default 50, so the first consumer group and the first
# transaction do not wait for 50 partitions to be created.
offsets.topic.num.partitions=8
transaction.state.log.num.partitions=8
share.coordinator.state.topic.num.partitions=8

# The project creates its topics explicitly, with the partition count the Faust workers expect
# (Faust's default is 8). Faust creates its internal topics through the admin API.
num.partitions=8
auto.create.topics.enable=false

# Tests start consumer groups often; the default 3 s delay would slow every first rebalance.
group.initial.rebalance.delay.ms=0

# Faust changelog topics are compacted, so the log cleaner must start. It allocates its dedupe
# buffer (default 128 MiB) at start-up, which a small STREAMPROC_KAFKA_HEAP cannot spare.
# 32 MiB has room for about a million keys per cleaning pass, at 24 bytes an entry.
log.cleaner.dedupe.buffer.size=33554432

# Check retention every minute instead of every 5, so a short retention.ms set in a test
# takes effect soon.
log.retention.check.interval.ms=60000

# Fewer threads than the defaults (3 network, 8 I/O), because a test broker serves a handful of
# clients.
num.network.threads=2
num.io.threads=4
EOF
}

# Short client time-outs for the tools, so a broker that stops responding makes them fail fast.
write_admin_properties() {
  cat >"$ADMIN_PROPERTIES" <<EOF
# Written by broker.sh: admin client settings for the Kafka command-line tools.
request.timeout.ms=10000
default.api.timeout.ms=20000
EOF
}

# Format the log directory on the first start only. Its meta.properties marks it as formatted
# and contains the cluster id that the data in it belongs to.
format_storage() {
  if [[ -f $KRAFT_LOG_DIR/meta.properties ]]; then
    return 0
  fi

  local cluster_id
  cluster_id=$("${TOOL_JAVA[@]}" kafka.tools.StorageTool random-uuid)
  note "formatting $KRAFT_LOG_DIR with cluster id $cluster_id"
  "${TOOL_JAVA[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$cluster_id" -c "$SERVER_PROPERTIES" >&2 \
    || die "formatting the KRaft storage in $KRAFT_LOG_DIR failed (see the output above)"
}

# ---------------------------------------------------------------------------------------------
# Start
# ---------------------------------------------------------------------------------------------

check_java() {
  local version
  command -v "$JAVA" >/dev/null || die "java not found ($JAVA); install Java 17 or newer or set JAVA_HOME"
  version=$("$JAVA" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = //p')
  [[ $version =~ ^[0-9]+$ && $version -ge 17 ]] \
    || die "Kafka ${KAFKA_VERSION} needs Java 17 or newer, but $JAVA is version '${version:-unknown}'"
}

check_port_free() {
  local name=$1 port=$2
  if port_is_open "$port"; then
    die "port ${HOST}:$port is already in use by another process; stop it or set $name to a free port"
  fi
}

# Start the JVM in its own session (setsid) so that it outlives this shell and a Ctrl-C in the
# calling terminal. The inner bash writes its pid before exec, so the pid file names the JVM
# even when setsid has to fork. The G1 flags are those of Kafka's kafka-run-class.sh.
# After an OutOfMemoryError the JVM stays up but the broker stops serving, so start or a test
# would wait on it until a time-out. ExitOnOutOfMemoryError makes the failure show at once.
launch_broker() {
  rm -f "$PID_FILE"
  # shellcheck disable=SC2016 # $$, $0 and $@ expand in the inner bash.
  setsid nohup bash -c 'echo $$ >"$0" && exec "$@"' "$PID_FILE" \
    "$JAVA" "-Xms$HEAP" "-Xmx$HEAP" -XX:+ExitOnOutOfMemoryError \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$SERVER_PROPERTIES" \
    </dev/null >"$CONSOLE_FILE" 2>&1 7>&- 8>&- &
  # Not a job of this shell, so bash prints no "Killed" notice when stop or a failed start
  # signals it.
  disown

  local waited=0
  until [[ -s $PID_FILE ]]; do
    ((waited < 50)) || die "the broker process did not write $PID_FILE within 5 s; see $CONSOLE_FILE"
    sleep 0.1
    waited=$((waited + 1))
  done
}

print_log_tail() {
  if [[ -s $CONSOLE_FILE ]]; then
    echo "--- last 40 lines of $CONSOLE_FILE ---" >&2
    tail -n 40 "$CONSOLE_FILE" >&2
  fi
  if [[ -s $LOG_FILE ]]; then
    echo "--- last 40 lines of $LOG_FILE ---" >&2
    tail -n 40 "$LOG_FILE" >&2
  else
    echo "--- $LOG_FILE is missing or empty ---" >&2
  fi
}

fail_start() {
  local pid=$1 reason=$2
  print_log_tail
  if is_alive "$pid"; then
    terminate "$pid"
  fi
  rm -f "$PID_FILE"
  die "$reason"
}

# Wait for the port while checking that the JVM is still alive, then for an admin request to
# succeed, all within START_TIMEOUT seconds.
wait_until_ready() {
  local pid=$1
  local deadline=$((SECONDS + START_TIMEOUT))

  until port_is_open "$PORT"; do
    is_alive "$pid" || fail_start "$pid" "the broker (pid $pid) exited during start-up"
    ((SECONDS < deadline)) \
      || fail_start "$pid" "the broker did not open ${BOOTSTRAP} within ${START_TIMEOUT} s; stopped it"
    sleep 0.5
  done

  local remaining=$((deadline - SECONDS))
  until broker_responds "$((remaining > 1 ? remaining : 1))"; do
    is_alive "$pid" || fail_start "$pid" "the broker (pid $pid) exited during start-up"
    ((SECONDS < deadline)) || fail_start "$pid" \
      "the broker did not respond to an admin request within ${START_TIMEOUT} s; stopped it"
    sleep 1
    remaining=$((deadline - SECONDS))
  done
}

print_addresses() {
  echo "bootstrap servers: $BOOTSTRAP"
  echo "log file: $LOG_FILE"
}

cmd_start() {
  # Fetch before taking the data directory lock, because a first download can take longer than
  # a concurrent start waits for the lock.
  fetch_jars
  lock_data_dir

  # The broker of this data directory may be up already, or still starting after a start that
  # was interrupted while it waited.
  local pid
  if pid=$(running_pid); then
    local port
    port=$(started_port)
    if [[ $port != "$PORT" ]]; then
      die "the broker for $DATA_DIR is already running on ${HOST}:${port:-?} (pid $pid), not on port $PORT." \
        "Stop it first or set STREAMPROC_KAFKA_PORT=${port:-?}"
    fi
    if port_is_open "$PORT" && broker_responds 20; then
      note "a broker for $DATA_DIR is already running (pid $pid)"
      print_addresses
      return 0
    fi
    note "a broker for $DATA_DIR is running (pid $pid) but not ready yet; waiting"
    wait_until_ready "$pid"
    print_addresses
    return 0
  fi
  rm -f "$PID_FILE"

  check_java
  check_port_free STREAMPROC_KAFKA_PORT "$PORT"
  check_port_free STREAMPROC_KAFKA_CONTROLLER_PORT "$CONTROLLER_PORT"

  mkdir -p "$DATA_DIR" "$LOG_DIR"
  write_server_properties
  write_admin_properties
  format_storage

  launch_broker
  pid=$(<"$PID_FILE")
  note "started the broker (pid $pid); waiting up to ${START_TIMEOUT} s until it is ready"
  wait_until_ready "$pid"

  note "the broker is ready (pid $pid)"
  print_addresses
}

# ---------------------------------------------------------------------------------------------
# Stop and status
# ---------------------------------------------------------------------------------------------

cmd_stop() {
  if [[ ! -d $DATA_DIR ]]; then
    note "no broker is running for $DATA_DIR"
    return 0
  fi
  lock_data_dir

  local pid
  if ! pid=$(running_pid); then
    if [[ -f $PID_FILE ]]; then
      note "removing the stale pid file $PID_FILE"
      rm -f "$PID_FILE"
    fi
    note "no broker is running for $DATA_DIR"
    return 0
  fi

  note "stopping the broker (pid $pid)"
  terminate "$pid"
  rm -f "$PID_FILE"
  note "stopped"
}

# The port comes from the running broker's server.properties, not from STREAMPROC_KAFKA_PORT,
# so that a data directory never leads to another broker that happens to use that port.
cmd_status() {
  local port
  if ! running_pid >/dev/null; then
    note "no broker is running for $DATA_DIR"
    return 1
  fi
  port=$(started_port)
  if [[ -z $port ]] || ! port_is_open "$port"; then
    note "the broker for $DATA_DIR is running but not accepting connections on ${HOST}:${port:-?} yet"
    return 1
  fi
  echo "$HOST:$port"
}

# ---------------------------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------------------------

# Print "NAME PARTITIONS" for each existing topic among the names, from one describe call.
describe_partition_counts() {
  local pattern=$1
  "${TOOL_JAVA[@]}" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_PROPERTIES" \
    --describe --if-exists --topic "$pattern" \
    | awk -F'\t' '/^Topic: / {
        name = ""; count = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Topic: /) name = substr($i, 8)
          if ($i ~ /^PartitionCount: /) count = substr($i, 17)
        }
        print name, count
      }'
}

# Split NAME[:PARTITIONS] arguments into TOPIC_NAMES and TOPIC_PARTITIONS, and validate them all
# before the broker is touched.
parse_topic_specs() {
  local spec name partitions
  TOPIC_NAMES=()
  TOPIC_PARTITIONS=()
  for spec in "$@"; do
    name=${spec%%:*}
    partitions=$DEFAULT_PARTITIONS
    if [[ $spec == *:* ]]; then
      partitions=${spec#*:}
    fi
    [[ $name =~ ^[A-Za-z0-9._-]{1,249}$ && $name != . && $name != .. ]] \
      || die "invalid topic name '$name' in '$spec': use 1 to 249 of the characters A-Z a-z 0-9 . _ -"
    require_positive_integer "the partition count in '$spec'" "$partitions"
    TOPIC_NAMES+=("$name")
    TOPIC_PARTITIONS+=("$partitions")
  done
}

create_topic() {
  local name=$1 partitions=$2
  "${TOOL_JAVA[@]}" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_PROPERTIES" \
    --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor 1 >/dev/null \
    || die "creating topic '$name' failed (see the output above)"
  note "created topic $name with $partitions partitions"
}

cmd_create_topics() {
  (($# > 0)) || die "create-topics needs at least one NAME[:PARTITIONS] argument"
  parse_topic_specs "$@"

  BOOTSTRAP=$(cmd_status 2>/dev/null) \
    || die "no broker for $DATA_DIR is accepting connections; run 'broker.sh start' first"

  # TopicCommand matches --topic as a regular expression against whole names, so dots are
  # escaped.
  local pattern existing
  pattern=$(printf '%s\n' "${TOPIC_NAMES[@]}" | sed 's/\./\\./g' | paste -sd'|' -)
  existing=$(describe_partition_counts "$pattern") \
    || die "listing the existing topics on $BOOTSTRAP failed (see the output above)"

  # An existing topic keeps its partition count. A Faust table raises PartitionsMismatch while
  # processing when its source topic and changelog topic differ in count, so a mismatch is an
  # error here already.
  local i name partitions actual mismatches=0
  for i in "${!TOPIC_NAMES[@]}"; do
    name=${TOPIC_NAMES[$i]}
    partitions=${TOPIC_PARTITIONS[$i]}
    actual=$(awk -v name="$name" '$1 == name { print $2 }' <<<"$existing")

    if [[ -z $actual ]]; then
      create_topic "$name" "$partitions"
    elif [[ $actual != "$partitions" ]]; then
      echo "broker.sh: error: topic '$name' exists with $actual partitions, expected $partitions;" \
        "delete it or use $actual" >&2
      mismatches=$((mismatches + 1))
    else
      note "topic $name exists with $partitions partitions"
    fi
  done
  ((mismatches == 0)) || exit 1
}

# ---------------------------------------------------------------------------------------------

main() {
  local command=${1:-}
  if [[ -z $command ]]; then
    usage >&2
    exit 2
  fi
  shift

  case $command in
    -h | --help)
      usage
      return 0
      ;;
  esac

  require_commands
  load_settings
  case $command in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    create-topics) cmd_create_topics "$@" ;;
    *)
      echo "broker.sh: error: unknown command '$command'" >&2
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
