#!/usr/bin/env bash
# Install Prometheus and Alertmanager (with promtool and amtool) from the Debian packages,
# for checking and testing the rules under deploy/. Idempotent: does nothing when all four
# commands are already on PATH.
#
# The packages start system services on install. This script keeps them from starting
# (its policy-rc.d exits with 101, "action forbidden", which invoke-rc.d obeys), then stops
# and disables them in case they started anyway, so no daemon stays up or binds 0.0.0.0.
# Tests start their own instances on 127.0.0.1.
set -euo pipefail

TOOLS=(promtool prometheus prometheus-alertmanager amtool)
PACKAGES=(prometheus prometheus-alertmanager)
# The packages' service names, which are also the daemons' process names.
SERVICES=(prometheus prometheus-alertmanager)
# The system user the packages run their daemons as.
SERVICE_USER=prometheus
POLICY_FILE=/usr/sbin/policy-rc.d

missing_tools() {
    local tool
    for tool in "${TOOLS[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || echo "$tool"
    done
}

print_versions() {
    local tool
    for tool in "${TOOLS[@]}"; do
        # Each prints its version banner on stdout or stderr, depending on the release.
        echo "$tool: $("$tool" --version 2>&1 | head -n 1)"
    done
}

# Installs a policy-rc.d that forbids every service start, keeping any existing one aside.
block_service_starts() {
    policy_backup=""
    if [ -e "$POLICY_FILE" ]; then
        policy_backup="$(mktemp "${POLICY_FILE}.streamproc.XXXXXX")"
        cp -p "$POLICY_FILE" "$policy_backup"
    fi
    trap restore_service_policy EXIT
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_FILE"
    chmod 755 "$POLICY_FILE"
}

restore_service_policy() {
    if [ -n "${policy_backup:-}" ]; then
        mv -f "$policy_backup" "$POLICY_FILE"
    else
        rm -f "$POLICY_FILE"
    fi
}

# Stops each packaged service and removes it from the boot sequence, with or without systemd.
stop_and_disable_services() {
    local service pid
    for service in "${SERVICES[@]}"; do
        if [ -d /run/systemd/system ]; then
            systemctl stop "$service" 2>/dev/null || true
        elif command -v service >/dev/null 2>&1; then
            service "$service" stop >/dev/null 2>&1 || true
        fi

        # systemctl disable also works without a running systemd, because it only edits
        # unit links. update-rc.d covers the SysV init scripts the packages also ship.
        if command -v systemctl >/dev/null 2>&1; then
            systemctl disable "$service" >/dev/null 2>&1 || true
        fi
        if command -v update-rc.d >/dev/null 2>&1; then
            update-rc.d "$service" disable >/dev/null 2>&1 || true
        fi

        # Only daemons of the packages' own system user: instances that tests or people
        # started under another user stay up.
        for pid in $(pgrep -u "$SERVICE_USER" -x "$service" 2>/dev/null || true); do
            echo "install-monitoring: stopping packaged $service daemon (pid $pid)"
            kill "$pid" 2>/dev/null || true
        done
    done
}

mapfile -t missing < <(missing_tools)
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-monitoring: ${TOOLS[*]} already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-monitoring: missing ${missing[*]}" >&2
    echo "install-monitoring: run this script as root, or install the Debian packages" \
        "${PACKAGES[*]} (for example: sudo apt-get install --no-install-recommends" \
        "${PACKAGES[*]})" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-monitoring: apt-get not found; install ${PACKAGES[*]} (Prometheus and" \
        "Alertmanager with promtool and amtool) with this system's package manager" >&2
    exit 1
fi

block_service_starts
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"
stop_and_disable_services

mapfile -t missing < <(missing_tools)
if [ "${#missing[@]}" -ne 0 ]; then
    echo "install-monitoring: installed ${PACKAGES[*]}, but ${missing[*]} still not on PATH" >&2
    exit 1
fi
print_versions
