#!/usr/bin/env bash
# Byte-compile the project's modules into __pycache__ (only those whose source changed since), so a new
# process (the server, a command, a test server) loads them instead of compiling them. Python writes
# these itself on import unless PYTHONDONTWRITEBYTECODE is set, as on this project's machines; the
# installed packages are compiled at install (scripts/install.sh). Failing to write costs only speed.
# Then the engine's C kernels (cb_core/**/*.c: the explainer's row passes, the activity features), built once
# per source and CPU into the same __pycache__ (cb_core/native.py); without a C compiler the engine runs the
# same computations in numba and numpy (same values, slower).
cd "$(dirname "$0")/.."
.venv/bin/python -m compileall -q -j 0 cb_core ui views bench app.py server.py >/dev/null 2>&1 || true
.venv/bin/python -m cb_core.native >/dev/null \
    || echo "warning: the engine's C kernels were not built; it will use numba's and numpy's" >&2
