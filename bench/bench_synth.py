"""Benchmark: wall time and peak memory of generating a synthetic book.

Usage::

    python bench/bench_synth.py --merchants 1000000 --months 24

Prints one JSON line: merchants, months, seed, rows of each table, wall seconds and the process's
peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes the
interpreter and imported libraries). Run one size per process: the peak never goes down.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cb_core.synth.generate import generate_book  # noqa: E402


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-month", default="2026-10")
    args = parser.parse_args(argv)

    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    book = generate_book(args.merchants, args.months, seed=args.seed, end_month=args.end_month)
    wall = time.perf_counter() - started
    result = {
        "benchmark": "synth.generate_book",
        "merchants": args.merchants,
        "months": args.months,
        "seed": args.seed,
        "activity_rows": len(book.activity),
        "outcome_rows": 0 if book.outcomes is None else len(book.outcomes),
        "wall_seconds": round(wall, 2),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "rss_before_mib": round(rss_before, 1),
        "activity_mib": round(book.activity.memory_usage(deep=True).sum() / 2**20, 1),
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
