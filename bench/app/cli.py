"""``python -m bench.app ...``: the command line of the app benchmarks (bench/app/__init__.py)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..results import append_results
from ..serve import ROOT
from . import __doc__ as PACKAGE_DOC
from .browser import measure_app
from .explainerdashboard import ed_child, measure_explainerdashboard
from .report import results_section
from .state import OUT_DIR, prepare, prepare_child

log = logging.getLogger("bench.app")

RESULTS_FILE = ROOT / "bench" / "RESULTS.md"
DEFAULT_SIZES = (100_000, 1_000_000)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.app", description=PACKAGE_DOC.splitlines()[0])
    p.add_argument("--merchants", type=int, nargs="+", help="book sizes (default 100000 1000000)")
    p.add_argument("--review-at", type=int, help="book size of the Merchant review visits (default: the largest)")
    p.add_argument("--pages-at", type=int,
                   help="book size of the every-page visits (default: the smallest; 0: none)")
    p.add_argument("--page-rounds", type=int, default=5,
                   help="warm visits of every page, round-robin, after their first visits (default 5)")
    p.add_argument("--pages-only", action="store_true",
                   help="of the server and browser measurements, only the every-page visits")
    p.add_argument("--visits", type=int, default=25, help="warm review visits, each to another merchant (default 25)")
    p.add_argument("--ed-merchants", type=int, default=100_000,
                   help="book size of the explainerdashboard comparison (default 100000; must be among --merchants)")
    p.add_argument("--ed-rows", type=int, nargs="+",
                   help="rows of that book's snapshot given to explainerdashboard (default: all; e.g. 10000 20000)")
    p.add_argument("--ed-timeout", type=float, default=3600, help="seconds before an explainerdashboard build is stopped")
    p.add_argument("--no-explainerdashboard", action="store_true", help="skip the explainerdashboard comparison")
    p.add_argument("--no-app", action="store_true", help="skip the server and browser measurements")
    p.add_argument("--prepare-only", action="store_true", help="build (or check) the state folders and stop")
    p.add_argument("--workdir", type=Path, default=OUT_DIR,
                   help=f"where the prepared states are kept and reused (default {OUT_DIR.relative_to(ROOT)})")
    p.add_argument("--timeout", type=float, default=1800, help="seconds a server or page step may take")
    p.add_argument("--results", type=Path, default=RESULTS_FILE, help="Markdown file the section is appended to")
    p.add_argument("--no-results", action="store_true", help="print JSON lines only")
    p.add_argument("--prepare-child", help=argparse.SUPPRESS)
    p.add_argument("--ed-child", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.app ...``; returns 0 when every step ran (skips included), else 1."""
    args = build_parser().parse_args(argv)
    if args.prepare_child:
        return prepare_child(args.prepare_child)
    if args.ed_child:
        return ed_child(args.ed_child)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    sizes = sorted(args.merchants or DEFAULT_SIZES)
    review_at = args.review_at or max(sizes)
    pages_at = min(sizes) if args.pages_at is None else args.pages_at
    ed_on = not args.no_explainerdashboard and args.ed_merchants in sizes
    if not args.no_explainerdashboard and args.ed_merchants not in sizes:
        log.warning("--ed-merchants %s is not among --merchants: no explainerdashboard comparison", args.ed_merchants)
    started, wall0, load_start = datetime.now(timezone.utc), time.perf_counter(), os.getloadavg()
    work = args.workdir.resolve()
    run_dir = work / "runs" / started.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []

    def emit(r: dict[str, Any]) -> None:
        records.append(r)
        print(json.dumps(r, ensure_ascii=False), flush=True)

    prepared: dict[int, tuple[Path, dict]] = {}
    for n in sizes:
        log.info("%s merchants: preparing the state ...", f"{n:,}")
        state, facts, record = prepare(work, n, ed_rows=ed_on and n == args.ed_merchants)
        prepared[n] = (state, facts)
        emit(record)
    if args.prepare_only:
        return 0
    if not args.no_app:
        measure_app(sizes, prepared, review_at, args.visits, run_dir, args.timeout, emit, pages_at=pages_at,
                    page_rounds=args.page_rounds, pages_only=args.pages_only)
    if ed_on:
        for rows in args.ed_rows or [args.ed_merchants]:
            log.info("explainerdashboard on %s rows ...", f"{rows:,}")
            emit(measure_explainerdashboard(work / f"n{args.ed_merchants}", args.ed_merchants, rows, run_dir,
                                            args.ed_timeout))
    if not args.no_results:
        command = shlex.join(getattr(sys, "orig_argv", sys.argv))
        append_results(args.results, results_section(records, command, load_start, os.getloadavg(), started,
                                                     time.perf_counter() - wall0))
    return 0 if all(r["status"] in ("ok", "skipped") for r in records) else 1


__all__ = ["build_parser", "main"]
