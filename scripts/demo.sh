#!/usr/bin/env bash
# Run the streamproc demo on this machine without Docker: a local Kafka broker, one worker, the
# traffic simulator and a live KPI table in this terminal. Ctrl-C stops everything it started.
# Needs Python 3.11+, Java 17+ and Maven (for the first Kafka download). Run with --help for options.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO_ROOT
readonly DEMO_DIR=$REPO_ROOT/.demo
readonly VENV_DIR=$REPO_ROOT/.venv
readonly BROKER_SCRIPT=$REPO_ROOT/deploy/kafka/broker.sh
readonly WORKER_LOG=$DEMO_DIR/worker.log
readonly SIMULATOR_LOG=$DEMO_DIR/simulator.log
# Seconds to wait for a stopped process before SIGKILL. A Faust worker commits offsets and
# leaves its consumer group on SIGTERM, which takes a few seconds.
readonly STOP_TIMEOUT_SECONDS=20
readonly METRICS_TIMEOUT_SECONDS=30

STREAMPROC_KAFKA_DATA_DIR=${STREAMPROC_KAFKA_DATA_DIR:-$DEMO_DIR/kafka}
# Relative to the directory the script was started from, since main changes to the repository.
[[ $STREAMPROC_KAFKA_DATA_DIR == /* ]] || STREAMPROC_KAFKA_DATA_DIR=$PWD/$STREAMPROC_KAFKA_DATA_DIR
export STREAMPROC_KAFKA_DATA_DIR
export STREAMPROC_KAFKA_PORT=${STREAMPROC_KAFKA_PORT:-9092}
METRICS_PORT=${STREAMPROC_METRICS_PORT:-9464}
DEMO_RATE=${DEMO_RATE:-5}
DEMO_INVALID_RATIO=${DEMO_INVALID_RATIO:-0.01}
DEMO_WINDOW=${DEMO_WINDOW:-1h}

# Set while running, so that cleanup stops only what this script started.
WORKER_PID=""
SIMULATOR_PID=""
STARTED_BROKER=false

usage() {
  cat <<EOF
Usage: scripts/demo.sh

Creates .venv if it is missing, installs streamproc into it, starts a local Kafka broker (unless
one for the same data directory is already running, or KAFKA_BOOTSTRAP_SERVERS names another),
creates the topics, starts a worker and the simulator in the background, and shows the live KPIs
with 'streamproc watch'. Ctrl-C stops the simulator, the worker and the broker if this script
started it. Logs go to .demo/worker.log and .demo/simulator.log.

Environment variables:
  STREAMPROC_KAFKA_PORT       Port of the local broker. Default: 9092
  STREAMPROC_KAFKA_DATA_DIR   Data directory of the local broker. Default: .demo/kafka
  KAFKA_BOOTSTRAP_SERVERS     Use this running broker instead of starting a local one.
  STREAMPROC_METRICS_PORT     Port of the worker's /metrics on 127.0.0.1. Default: 9464
  DEMO_RATE                   New tickets per second from the simulator. Default: 5
  DEMO_INVALID_RATIO          Share of events followed by a malformed copy, 0 to 1. Default: 0.01
  DEMO_WINDOW                 Window that the table shows. Default: 1h
EOF
}

say() {
  if [[ -t 1 ]]; then
    printf '\033[1mdemo:\033[0m %s\n' "$*"
  else
    printf 'demo: %s\n' "$*"
  fi
}

die() {
  printf 'demo: error: %s\n' "$*" >&2
  exit 1
}

port_is_open() {
  local port=$1
  # shellcheck disable=SC2016 # $0 and $1 expand in the inner bash.
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$port" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# Python environment
# ---------------------------------------------------------------------------------------------

# scripts/bootstrap.sh creates .venv and installs the pinned packages, skipping the install
# while pyproject.toml and constraints.txt are unchanged.
install_project() {
  bash "$REPO_ROOT/scripts/bootstrap.sh"
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

start_broker() {
  local external=${KAFKA_BOOTSTRAP_SERVERS:-${STREAMPROC_KAFKA_BOOTSTRAP_SERVERS:-}}
  if [[ -n $external ]]; then
    say "using the broker at $external (KAFKA_BOOTSTRAP_SERVERS is set)"
    export STREAMPROC_KAFKA_BOOTSTRAP_SERVERS=$external
    return 0
  fi

  export STREAMPROC_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$STREAMPROC_KAFKA_PORT
  if "$BROKER_SCRIPT" status >/dev/null 2>&1; then
    say "a broker for $STREAMPROC_KAFKA_DATA_DIR is already running; it stays running after the demo"
    return 0
  fi
  say "starting the local Kafka broker on 127.0.0.1:$STREAMPROC_KAFKA_PORT (data: $STREAMPROC_KAFKA_DATA_DIR)"
  # Set before the start, so that an interrupted start is stopped too.
  STARTED_BROKER=true
  "$BROKER_SCRIPT" start
}

start_worker() {
  if port_is_open "$METRICS_PORT"; then
    die "port 127.0.0.1:$METRICS_PORT is already in use. Stop that process or set STREAMPROC_METRICS_PORT"
  fi
  say "starting the worker (log: $WORKER_LOG)"
  STREAMPROC_DATA_DIR=$DEMO_DIR/worker STREAMPROC_METRICS_PORT=$METRICS_PORT \
    "$VENV_DIR/bin/streamproc" worker >"$WORKER_LOG" 2>&1 &
  WORKER_PID=$!

  local deadline=$((SECONDS + METRICS_TIMEOUT_SECONDS))
  until port_is_open "$METRICS_PORT"; do
    if ! kill -0 "$WORKER_PID" 2>/dev/null; then
      tail -n 30 "$WORKER_LOG" >&2
      die "the worker exited during start-up (last lines of $WORKER_LOG above)"
    fi
    ((SECONDS < deadline)) || die "the worker did not serve /metrics within ${METRICS_TIMEOUT_SECONDS} s. See $WORKER_LOG"
    sleep 0.5
  done
}

start_simulator() {
  say "starting the simulator at $DEMO_RATE tickets/s (log: $SIMULATOR_LOG)"
  "$VENV_DIR/bin/streamproc" simulate --rate "$DEMO_RATE" --invalid-ratio "$DEMO_INVALID_RATIO" \
    >"$SIMULATOR_LOG" 2>&1 &
  SIMULATOR_PID=$!

  # A bad option or an unreachable broker ends the simulator at once.
  sleep 2
  if ! kill -0 "$SIMULATOR_PID" 2>/dev/null; then
    tail -n 30 "$SIMULATOR_LOG" >&2
    die "the simulator exited during start-up (last lines of $SIMULATOR_LOG above)"
  fi
}

# Send SIGTERM, wait, then SIGKILL. Background jobs of a script ignore SIGINT, so they get SIGTERM.
stop_process() {
  local name=$1 pid=$2 waited=0
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  say "stopping the $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((waited < STOP_TIMEOUT_SECONDS * 2)); do
    sleep 0.5
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "the $name did not stop within ${STOP_TIMEOUT_SECONDS} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Runs on every exit, including Ctrl-C and errors. The simulator stops first so the worker can
# process what was already sent.
cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  # When output goes through a pipe (demo.sh | tee log), Ctrl-C ends the reader too. Ignoring
  # SIGPIPE turns the failed writes into errors, so the processes below are still stopped.
  trap '' PIPE
  stop_process simulator "$SIMULATOR_PID"
  stop_process worker "$WORKER_PID"
  if [[ $STARTED_BROKER == true ]]; then
    say "stopping the Kafka broker"
    # Captured rather than inherited: broker.sh exits on its first failed write to a closed pipe,
    # which would leave the broker running.
    local output
    output=$("$BROKER_SCRIPT" stop 2>&1)
    printf '%s\n' "$output"
  fi
  say "stopped"
  exit "$status"
}

# ---------------------------------------------------------------------------------------------

main() {
  case ${1:-} in
    -h | --help)
      usage
      return 0
      ;;
    "") ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac

  cd "$REPO_ROOT"
  mkdir -p "$DEMO_DIR"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  install_project
  start_broker
  say "creating the topics"
  "$VENV_DIR/bin/streamproc" create-topics
  start_worker
  start_simulator

  local url="http://127.0.0.1:$METRICS_PORT/metrics"
  say "metrics: $url"
  say "showing window $DEMO_WINDOW; KPI values appear within a minute. Press Ctrl-C to stop."
  "$VENV_DIR/bin/streamproc" watch --url "$url" --window "$DEMO_WINDOW"
}

main "$@"
