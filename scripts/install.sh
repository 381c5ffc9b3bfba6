#!/usr/bin/env bash
# Create a venv with the given Python and install a requirements file, pinned by a constraints file.
# uv when it can be had (seconds), pip otherwise. Paths are relative to the repository root.
#   scripts/install.sh [PYTHON [REQUIREMENTS [VENV [CONSTRAINTS]]]]
# defaults python3.11, requirements.txt, .venv, constraints.txt; CONSTRAINTS "none" installs unconstrained
# (bench/setup.sh: bench/.venv pins its own versions).
# Both installers leave compiled bytecode (.pyc) beside every module: without it (uv's default) and with
# PYTHONDONTWRITEBYTECODE set, every process compiles numpy, pandas, pyarrow and numba from source again,
# about 1.5 s of CPU per `score --explain` (bench/RESULTS.md, the fixed costs of one score process).
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
if [ -x "$VENV/bin/uv" ] && "$VENV/bin/uv" pip install -q --compile-bytecode -p "$VENV/bin/python" -r "$REQ" ${PIN[@]+"${PIN[@]}"}; then
    :
else
    echo "uv unavailable or failed; installing with pip" >&2
    "$VENV/bin/python" -m pip install -q -r "$REQ" ${PIN[@]+"${PIN[@]}"}
fi
# A venv installed before (uv compiles only what it installs now) gets its bytecode too; up-to-date files
# are skipped (3 s on a compiled venv, ~50 s of CPU on one without any .pyc).
"$VENV/bin/python" -m compileall -q -j 0 "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null
