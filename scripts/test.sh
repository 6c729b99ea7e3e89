#!/usr/bin/env bash
# Run the whole test suite against a real Kafka broker.
#
# When KAFKA_BOOTSTRAP_SERVERS names a broker that accepts connections, the tests use it.
# Otherwise this script starts the project's local broker (deploy/kafka/broker.sh) with its
# own data directory under .test/, and stops it again on exit. Arguments go to pytest.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/bootstrap.sh test
# promtool, prometheus, prometheus-alertmanager and amtool for the rule and end-to-end tests.
bash scripts/install-monitoring.sh

# Accepts the first host:port of a comma-separated list; true when it takes a TCP connection.
broker_answers() {
    local first="${1%%,*}"
    local host="${first%:*}" port="${first##*:}"
    timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

started_broker=""
stop_broker() {
    if [ -n "$started_broker" ]; then
        echo "test.sh: stopping the test broker"
        bash deploy/kafka/broker.sh stop || true
    fi
}
trap stop_broker EXIT

if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && broker_answers "$KAFKA_BOOTSTRAP_SERVERS"; then
    echo "test.sh: using the running broker at $KAFKA_BOOTSTRAP_SERVERS"
else
    export STREAMPROC_KAFKA_DATA_DIR="${STREAMPROC_KAFKA_DATA_DIR:-$root/.test/kafka}"
    export STREAMPROC_KAFKA_PORT="${STREAMPROC_KAFKA_PORT:-19092}"
    # A fresh data directory per run: tests create their own topics and groups anyway.
    bash deploy/kafka/broker.sh stop >/dev/null 2>&1 || true
    rm -rf "$STREAMPROC_KAFKA_DATA_DIR"
    started_broker=1
    bash deploy/kafka/broker.sh start
    export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$STREAMPROC_KAFKA_PORT"
fi

.venv/bin/python -m pytest "$@"
