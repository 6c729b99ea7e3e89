#!/usr/bin/env bash
# Create .venv and install streamproc into it with the pinned versions of constraints.txt.
# Usage: scripts/bootstrap.sh [EXTRA]   (EXTRA is an optional-dependency group, e.g. test)
# Re-running is cheap: the install is skipped while pyproject.toml and constraints.txt are
# unchanged since the last successful install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra="${1:-}"
venv="$root/.venv"

find_python() {
    local candidate
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "bootstrap.sh: error: Python 3.11 or newer not found on PATH; install it and retry" >&2
    return 1
}

if [ ! -x "$venv/bin/python" ]; then
    python="$(find_python)"
    echo "bootstrap.sh: creating $venv with $python"
    "$python" -m venv "$venv"
fi

target="."
[ -n "$extra" ] && target=".[$extra]"
stamp="$venv/.streamproc-installed-${extra:-base}"
digest="$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    exit 0
fi

echo "bootstrap.sh: installing streamproc${extra:+[$extra]} into $venv"
(
    cd "$root"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c constraints.txt -e "$target"
)
echo "$digest" > "$stamp"
