#!/usr/bin/env bash
# Create .venv with the given Python and install a requirements file (pinned by constraints.txt).
# uv when it can be had (seconds), pip otherwise.
set -euo pipefail
PYTHON="${1:-python3.11}"
REQ="${2:-requirements.txt}"
cd "$(dirname "$0")/.."
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON not found; install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip install -q uv >/dev/null 2>&1 || true
fi
if [ -x .venv/bin/uv ] && .venv/bin/uv pip install -q -p .venv/bin/python -r "$REQ" -c constraints.txt; then
    exit 0
fi
echo "uv unavailable or failed; installing with pip" >&2
.venv/bin/python -m pip install -q -r "$REQ" -c constraints.txt
