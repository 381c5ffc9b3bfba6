#!/usr/bin/env bash
# Create bench/.venv with the benchmark-only extras of bench/requirements.txt (scripts/install.sh, which
# also builds the app's .venv; these pins are bench/requirements.txt's own, not constraints.txt's).
# The app's .venv is never touched: the runner (python -m bench) runs in the app's venv and starts
# bench/.venv/bin/python only for the reference aggregation (polars, DuckDB); python -m bench.app
# starts it for the explainerdashboard comparison (explainerdashboard is no dependency of the app).
#   bench/setup.sh [PYTHON]
set -euo pipefail
exec "$(dirname "$0")/../scripts/install.sh" "${1:-python3.11}" bench/requirements.txt bench/.venv none
