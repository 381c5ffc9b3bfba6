"""Benchmark runner: wall time and peak memory of every engine step on demo books of given sizes.

Usage::

    python -m bench                       # 100,000 and 1,000,000 merchants x 24 months
    python -m bench --quick               # 20,000 merchants, well under two minutes
    python -m bench --merchants 100000 --steps snapshot,reference
    python -m cb_core bench --quick       # the same, through the engine's command line

Each group of steps runs in its own child process (a fresh interpreter), so a step's peak memory
is its own: the child loads its inputs from parquet files that earlier steps wrote into a work
folder, returns the pages Arrow's pool kept from those reads, resets the kernel's peak-RSS mark
(``/proc/self/clear_refs``), runs the step and reads ``VmHWM`` (MiB, reported as ``peak_rss_mb``).
The peak therefore includes the interpreter, the libraries and the inputs the step holds, never the
loading or another step. Times are wall seconds (``perf_counter``); ``cpu_seconds`` is the process's
CPU time over the step (all threads): wall far above CPU / threads means the step waited for a core.

Steps (``--steps`` takes the group names; prerequisites run without being reported):

========== ==============================================================================
generate   ``generate_book`` (the demo book)
snapshot   ``snapshot`` as of the last month
reference  the same last-3/6/12-month window sums in polars and in DuckDB, from
           ``bench/.venv`` (``bench/setup.sh``), reported with the ratio ours / reference
train      ``training_table`` (one snapshot per outcome month) and ``train_model``
score      ``CreditModel.score`` on the whole book
points     ``points_by_feature`` (LightGBM ``pred_contrib``) on the whole book, or on a random
           sample extrapolated linearly when the book is larger than ``--points-full-max``;
           also ``cb_core.explain.fastshap`` when it is importable
explain    ``cutoff_reference`` once, then the median of 50 ``explain_merchant`` calls
curves     ``strategy_frame``, ``CutoffCurves.precompute`` and the median of 200 ``at()`` calls
offers     ``match_book`` over every merchant x every shipped product
========== ==============================================================================

Output: one JSON line per step on stdout (``step, merchants, rows, seconds, peak_rss_mb, notes``
and ``status, cpu_seconds, base_rss_mb, load_1m_start, load_1m_end``, sometimes ``extrapolated_seconds``,
``ratio_ours_over_reference`` or ``speedup_over_pred_contrib``), and a dated section appended to
``bench/RESULTS.md`` with the machine's facts. The machine is shared, so every time is an upper bound.

This module imports only the standard library (and :mod:`cb_core.errors`, which needs nothing else)
at the top: the reference child runs it under ``bench/.venv``, which has polars and DuckDB but not
the app's packages.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from cb_core.errors import ConfigError

from .results import append_results, machine_facts, results_section
from .serve import ROOT
from .steps import child

log = logging.getLogger(__name__)

BENCH_DIR = ROOT / "bench"
BENCH_PYTHON = BENCH_DIR / ".venv" / "bin" / "python"
RESULTS_FILE = BENCH_DIR / "RESULTS.md"

DEFAULT_SIZES: tuple[int, ...] = (100_000, 1_000_000)
QUICK_SIZES: tuple[int, ...] = (20_000,)
POINTS_SAMPLE = 50_000
POINTS_FULL_MAX = 100_000

#: Step groups in run order, each with the groups whose files it reads.
GROUPS: dict[str, tuple[str, ...]] = {
    "generate": (), "snapshot": ("generate",), "reference": ("snapshot",), "train": ("generate",),
    "score": ("snapshot", "train"), "points": ("snapshot", "train"), "explain": ("score",),
    "curves": ("score",), "offers": ("score",),
}
RECORD_KEYS: tuple[str, ...] = ("step", "merchants", "rows", "seconds", "peak_rss_mb", "notes", "status",
                                "cpu_seconds", "base_rss_mb", "load_1m_start", "load_1m_end")


# ------------------------------------------------------------------ the runner (parent)

def _closure(groups: list[str]) -> list[str]:
    needed: set[str] = set()

    def add(g: str) -> None:
        if g not in needed:
            needed.add(g)
            for dep in GROUPS[g]:
                add(dep)

    for g in groups:
        add(g)
    return [g for g in GROUPS if g in needed]


def _failure(group: str, n: int, status: str, notes: str) -> dict[str, Any]:
    return {"step": group, "merchants": n, "rows": None, "seconds": None, "peak_rss_mb": None, "notes": notes,
            "status": status, "cpu_seconds": None, "base_rss_mb": None, "load_1m_start": os.getloadavg()[0], "load_1m_end": None}


def _run_group(group: str, spec: dict[str, Any], python: Path,
               child_env: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], bool]:
    work = Path(spec["work"])
    spec = {**spec, "group": group, "out": str(work / f"{group}.result.json")}
    spec_path = work / f"{group}.spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    stderr_path = work / f"{group}.stderr.txt"
    env = {**os.environ, **(child_env or {}),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open(stderr_path, "wb") as err:
        done = subprocess.run([str(python), "-m", "bench", "--child", str(spec_path)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=err)
    if done.returncode != 0:
        tail = stderr_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        return [_failure(group, spec["merchants"], "failed", f"exit {done.returncode}: {' | '.join(tail)}")], False
    return json.loads(Path(spec["out"]).read_text(encoding="utf-8")), True


def run(sizes: tuple[int, ...] | list[int] = DEFAULT_SIZES, *, steps: list[str] | None = None, months: int = 24,
        seed: int = 7, end_month: str = "2026-10", points_sample: int = POINTS_SAMPLE,
        points_full_max: int = POINTS_FULL_MAX, workdir: Path | None = None, keep: bool = False,
        bench_python: Path = BENCH_PYTHON, profile: str | None = None, child_env: dict[str, str] | None = None,
        emit: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run the selected step groups on a demo book of each size; return the records of those steps.

    Parameters
    ----------
    sizes : merchants per book
    steps : group names (:data:`GROUPS`); all when None. Prerequisites run but are not reported.
    months, seed, end_month : the demo book (``generate_book``)
    points_sample, points_full_max : explanations run on a ``points_sample``-row sample, extrapolated,
        when the book has more than ``points_full_max`` merchants
    workdir : folder for the books and intermediate files (a temporary one by default, removed unless ``keep``)
    bench_python : the interpreter of bench/.venv for the reference aggregation
    profile : a group to run under pyinstrument (or cProfile); its report goes to bench/out/
    child_env : extra environment variables of the step processes (e.g. ``OMP_WAIT_POLICY=PASSIVE``)
    emit : called with each record as soon as it is known (e.g. to print JSON lines)

    Returns
    -------
    list of dict
        One record per reported step, keys :data:`RECORD_KEYS` and maybe ``extrapolated_seconds``,
        ``ratio_ours_over_reference`` or ``speedup_over_pred_contrib``.
    """
    chosen = list(GROUPS) if steps is None else list(steps)
    unknown = [s for s in chosen if s not in GROUPS]
    if unknown:
        raise ConfigError(f"unknown step group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    emit = emit or (lambda record: None)
    base = Path(tempfile.mkdtemp(prefix="cb-bench-", dir=workdir))
    out: list[dict[str, Any]] = []
    try:
        for n in sizes:
            work = base / f"n{n}"
            work.mkdir(parents=True)
            spec = {"work": str(work), "merchants": int(n), "months": months, "seed": seed, "end_month": end_month,
                    "points_sample": points_sample, "points_full_max": points_full_max, "profile": False}
            ok: set[str] = set()
            snapshot_seconds = None
            for group in _closure(chosen):
                started = time.perf_counter()
                log.info("%s merchants: %s ...", f"{n:,}", group)
                if any(dep not in ok for dep in GROUPS[group]):
                    records = [_failure(group, n, "skipped", "a prerequisite step failed")]
                elif group == "reference" and not Path(bench_python).exists():
                    records = [_failure(group, n, "skipped", f"{bench_python} not found: run bench/setup.sh")]
                else:
                    python = Path(bench_python) if group == "reference" else Path(sys.executable)
                    records, passed = _run_group(group, {**spec, "profile": profile == group}, python, child_env)
                    if passed:
                        ok.add(group)
                log.info("%s merchants: %s done in %.1f s", f"{n:,}", group, time.perf_counter() - started)
                for r in records:
                    r["group"] = group
                    if r["step"] == "snapshot":
                        snapshot_seconds = r["seconds"]
                    if r["step"].startswith("reference_") and r["seconds"] and snapshot_seconds:
                        r["ratio_ours_over_reference"] = snapshot_seconds / r["seconds"]
                        r["notes"] += f"; ours (snapshot) / this = {r['ratio_ours_over_reference']:.2f}"
                    if group in chosen:
                        out.append(r)
                        emit(r)
    finally:
        if keep:
            log.info("work folder kept: %s", base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return out


# ------------------------------------------------------------------ command line

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--merchants", type=int, nargs="+", help="book sizes (default 100000 1000000)")
    p.add_argument("--quick", action="store_true", help="20,000 merchants only (a smoke run, under two minutes)")
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--end-month", default="2026-10")
    p.add_argument("--steps", help=f"comma-separated groups: {','.join(GROUPS)} (default all)")
    p.add_argument("--points-sample", type=int, default=POINTS_SAMPLE)
    p.add_argument("--points-full-max", type=int, default=POINTS_FULL_MAX)
    p.add_argument("--workdir", type=Path, help="where the books are written (default: system temp)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--results", type=Path, default=RESULTS_FILE, help="Markdown file to append to")
    p.add_argument("--no-results", action="store_true", help="print JSON lines only")
    p.add_argument("--profile", choices=list(GROUPS), help="profile one group (report in bench/out/)")
    p.add_argument("--child-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment variable of the step processes (repeatable), e.g. OMP_WAIT_POLICY=PASSIVE")
    p.add_argument("--app", action="store_true",
                   help="then run python -m bench.app (app start, Merchant review in Chromium, explainerdashboard) "
                        "on the same book sizes, in its own process")
    p.add_argument("--app-args", default="", metavar="ARGS",
                   help="extra options of python -m bench.app, e.g. \"--visits 40 --no-explainerdashboard\"")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m bench ...``; returns 0 when every reported step ran (skips included), 1 when one
    failed, 2 on bad options."""
    try:
        return run_args(build_parser().parse_args(argv))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run_args(args: argparse.Namespace) -> int:
    """Run from parsed arguments (see :func:`main`)."""
    if args.child:
        return child(args.child)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)  # progress shows even when a CLI configured logging for warnings only
    sizes = list(QUICK_SIZES) if args.quick else (args.merchants or list(DEFAULT_SIZES))
    if args.quick and args.merchants:
        sizes = args.merchants
    steps = [s.strip() for s in args.steps.split(",") if s.strip()] if args.steps else None
    bad = [item for item in args.child_env if "=" not in item or not item.split("=", 1)[0]]
    if bad:
        raise ConfigError(f"--child-env takes KEY=VALUE; got {', '.join(bad)}")
    child_env = dict(item.split("=", 1) for item in args.child_env)
    started, wall0, load_start = datetime.now(timezone.utc), time.perf_counter(), os.getloadavg()
    records = run(sizes, steps=steps, months=args.months, seed=args.seed, end_month=args.end_month,
                  points_sample=args.points_sample, points_full_max=args.points_full_max, workdir=args.workdir,
                  keep=args.keep, profile=args.profile, child_env=child_env,
                  emit=lambda r: print(json.dumps(r, ensure_ascii=False), flush=True))
    if not args.no_results:
        command = shlex.join(getattr(sys, "orig_argv", sys.argv))
        section = results_section(records, machine_facts(), command, load_start, os.getloadavg(), started,
                                  time.perf_counter() - wall0, child_env)
        append_results(args.results, section)
    ok = all(r["status"] in ("ok", "skipped") for r in records)
    if args.app:
        ok = run_app_bench(sizes, args) == 0 and ok
    return 0 if ok else 1


def run_app_bench(sizes: list[int], args: argparse.Namespace) -> int:
    """Run ``python -m bench.app`` as a subprocess (the runner never imports Streamlit or Playwright);
    the explainerdashboard comparison is at 100,000 merchants when that size is run, else at the
    smallest. Returns its exit code."""
    extra = shlex.split(args.app_args)
    command = [sys.executable, "-m", "bench.app", "--merchants", *map(str, sizes)]
    if "--ed-merchants" not in extra:
        command += ["--ed-merchants", str(100_000 if 100_000 in sizes else min(sizes))]
    command += ["--no-results"] if args.no_results else ["--results", str(args.results)]
    log.info("app benchmarks: %s", shlex.join(command + extra))
    return subprocess.run(command + extra, cwd=ROOT).returncode


__all__ = ["DEFAULT_SIZES", "GROUPS", "QUICK_SIZES", "RECORD_KEYS", "build_parser", "main", "run", "run_args",
           "run_app_bench"]
