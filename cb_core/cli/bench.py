"""``python -m cb_core bench ...``: a thin entry to the benchmarks, which live in ``bench/`` (not in the
engine). It runs ``python -m bench ...`` from the repository root with the same interpreter and
arguments, and returns its exit code; nothing of ``bench`` is imported into the engine."""
from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from ..config import ROOT


def add_parser(sub: Any) -> None:
    """Register ``bench`` on the subparsers of ``python -m cb_core``."""
    # No prefix character of its own: every argument, options included, goes to python -m bench
    # (argparse's REMAINDER alone stops at the first option and leaves it unrecognised).
    p = sub.add_parser("bench", help="benchmark whole commands and pages on demo books (bench/README.md); "
                                     "options: python -m cb_core bench --help", add_help=False, prefix_chars="\0")
    p.add_argument("bench_args", nargs=argparse.REMAINDER, help="options of python -m bench")
    p.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    if not (ROOT / "bench" / "__main__.py").is_file():
        raise ConfigError(f"{ROOT / 'bench'}: the benchmarks are not there (they ship with the repository, "
                          "not with the engine)")
    return subprocess.run([sys.executable, "-m", "bench", *args.bench_args], cwd=ROOT).returncode
