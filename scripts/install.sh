#!/usr/bin/env bash
# Create a venv with the given Python and install a requirements file, pinned by a constraints file.
# uv when it can be had (seconds), pip otherwise. Paths are relative to the repository root.
#   scripts/install.sh [PYTHON [REQUIREMENTS [VENV [CONSTRAINTS]]]]
# defaults python3.11, requirements.txt, .venv, constraints.txt; CONSTRAINTS "none" installs unconstrained
# (bench/setup.sh: bench/.venv pins its own versions).
set -euo pipefail
PYTHON="${1:-python3.11}"
REQ="${2:-requirements.txt}"
VENV="${3:-.venv}"
CONSTRAINTS="${4:-constraints.txt}"
cd "$(dirname "$0")/.."
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON not found; install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv)" >&2
    exit 1
fi
PIN=()
if [ "$CONSTRAINTS" != "none" ]; then
    PIN=(-c "$CONSTRAINTS")
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if [ ! -x "$VENV/bin/uv" ]; then
    "$VENV/bin/python" -m pip install -q uv >/dev/null 2>&1 || true
fi
# --compile-bytecode: every new process (the server, each command, each test server) would otherwise
# compile the packages' modules again when PYTHONDONTWRITEBYTECODE is set (7.3 s instead of 2.6 s for
# the app's imports here); pip compiles by default.
if [ -x "$VENV/bin/uv" ] && "$VENV/bin/uv" pip install -q --compile-bytecode -p "$VENV/bin/python" -r "$REQ" ${PIN[@]+"${PIN[@]}"}; then
    exit 0
fi
echo "uv unavailable or failed; installing with pip" >&2
"$VENV/bin/python" -m pip install -q -r "$REQ" ${PIN[@]+"${PIN[@]}"}
