"""What a real ``python -X importtime -m cb_core ...`` process imported (issue #15's import budgets): its
report names every module, so a test can say which libraries a command pulls in."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support.app import ROOT


def imported_modules(*args: str, env: dict | None = None, codes: tuple[int, ...] = (0,)) -> set[str]:
    """Every module's full name the process ``python -m cb_core ARGS`` imported; its exit code must be one of
    ``codes``."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cb_core", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
    assert done.returncode in codes, done.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s*(\S+)", done.stderr, flags=re.M)
    assert names, "no -X importtime report"
    return set(names)


def imported_packages(*args: str, env: dict | None = None, codes: tuple[int, ...] = (0,)) -> set[str]:
    """The top-level packages of :func:`imported_modules`."""
    return {name.split(".")[0] for name in imported_modules(*args, env=env, codes=codes)}
