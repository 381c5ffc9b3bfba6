#!/usr/bin/env bash
# Create bench/.venv with the benchmark-only extras of bench/requirements.txt.
# The app's .venv is never touched: the runner (python -m cb_core.bench) runs in the app's venv and
# starts bench/.venv/bin/python only for the reference aggregation (polars, DuckDB); bench/bench_app.py
# starts it for the explainerdashboard comparison (explainerdashboard is no dependency of the app).
# uv when it can be had (seconds), pip otherwise.
set -euo pipefail
PYTHON="${1:-python3.11}"
cd "$(dirname "$0")"
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
if [ -x .venv/bin/uv ] && .venv/bin/uv pip install -q -p .venv/bin/python -r requirements.txt; then
    exit 0
fi
echo "uv unavailable or failed; installing with pip" >&2
.venv/bin/python -m pip install -q -r requirements.txt
