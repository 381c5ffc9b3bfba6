"""Benchmark runner: wall time and peak memory of every engine step on demo books of given sizes.

Usage::

    python -m cb_core.bench                       # 100,000 and 1,000,000 merchants x 24 months
    python -m cb_core.bench --quick               # 20,000 merchants, well under two minutes
    python -m cb_core.bench --merchants 100000 --steps snapshot,reference

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
           also ``cb_core.fastshap`` when it is importable
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
import gc
import json
import logging
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from .errors import ConfigError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
BENCH_PYTHON = BENCH_DIR / ".venv" / "bin" / "python"
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
PROFILE_DIR = BENCH_DIR / "out"

DEFAULT_SIZES: tuple[int, ...] = (100_000, 1_000_000)
QUICK_SIZES: tuple[int, ...] = (20_000,)
POINTS_SAMPLE = 50_000
POINTS_FULL_MAX = 100_000
EXPLAIN_CALLS = 50
SLIDER_CALLS = 200

#: Step groups in run order, each with the groups whose files it reads.
GROUPS: dict[str, tuple[str, ...]] = {
    "generate": (), "snapshot": ("generate",), "reference": ("snapshot",), "train": ("generate",),
    "score": ("snapshot", "train"), "points": ("snapshot", "train"), "explain": ("score",),
    "curves": ("score",), "offers": ("score",),
}
RECORD_KEYS: tuple[str, ...] = ("step", "merchants", "rows", "seconds", "peak_rss_mb", "notes", "status",
                                "cpu_seconds", "base_rss_mb", "load_1m_start", "load_1m_end")
_WINDOWS = {"3m": (2, 0), "prior3m": (5, 3), "6m": (5, 0), "12m": (11, 0), "yoy3m": (14, 12)}  # months back


# ------------------------------------------------------------------ measuring inside a child

def _proc_kib(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the process's peak-RSS mark to its current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _Meter:
    """Times one step and reads the peak RSS of this process during it; appends a record on exit."""

    def __init__(self, records: list[dict[str, Any]], step: str, merchants: int, rows: int) -> None:
        self.record: dict[str, Any] = {"step": step, "merchants": merchants, "rows": rows, "notes": []}
        self.records = records

    def __enter__(self) -> _Meter:
        gc.collect()
        if "pyarrow" in sys.modules:  # free pages the parquet reads left in Arrow's pool: not the step's
            sys.modules["pyarrow"].default_memory_pool().release_unused()
        self.exact = _reset_peak() and _proc_kib("VmHWM") is not None
        self.base = _proc_kib("VmRSS")
        self.load0 = os.getloadavg()[0]
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> bool:
        seconds = time.perf_counter() - self.t0
        cpu = time.process_time() - self.cpu0
        if exc_type is not None:
            return False
        if self.exact:
            peak = _proc_kib("VmHWM")
        else:  # no /proc: the process's high-water mark since it started (KiB on Linux)
            import resource

            peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            self.record["notes"].append("peak is the child's whole-life ru_maxrss (no /proc reset)")
        self.record.setdefault("seconds", seconds)
        self.record.setdefault("cpu_seconds", cpu)
        self.record.update({"peak_rss_mb": round(peak / 1024, 1),
                            "base_rss_mb": None if self.base is None else round(self.base / 1024, 1),
                            "load_1m_start": self.load0, "load_1m_end": os.getloadavg()[0], "status": "ok"})
        self.records.append(self.record)
        return False

    def note(self, text: str) -> None:
        self.record["notes"].append(text)


def _timed_calls(meter: _Meter, calls: list[Callable[[], Any]]) -> None:
    """Run ``calls`` inside ``meter``; the step's seconds (and CPU seconds) become their median."""
    times, cpu = [], []
    for call in calls:
        c0, t0 = time.process_time(), time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    ordered = sorted(times)
    meter.record["seconds"] = statistics.median(times)
    meter.record["cpu_seconds"] = statistics.median(cpu)
    meter.note(f"median of {len(times)} calls; min {ordered[0] * 1e3:.2f} ms, "
               f"p95 {ordered[int(0.95 * (len(ordered) - 1))] * 1e3:.2f} ms, max {ordered[-1] * 1e3:.2f} ms")


# ------------------------------------------------------------------ the step groups (children)

def _read(work: Path, name: str, **kwargs: Any):
    import pandas as pd

    return pd.read_parquet(work / f"{name}.parquet", **kwargs)


def _group_generate(spec: dict[str, Any], records: list) -> None:
    from .synth import generate_book

    n = spec["merchants"]
    with _Meter(records, "generate_book", n, n) as m:
        book = generate_book(n, spec["months"], spec["seed"], spec["end_month"])
    m.record["rows"] = len(book.activity)
    m.note(f"{n:,} merchants x {spec['months']} months: {len(book.activity):,} activity rows, "
           f"{len(book.outcomes):,} outcome rows")
    work = Path(spec["work"])
    for name, frame in (("merchants", book.merchants), ("activity", book.activity), ("outcomes", book.outcomes)):
        frame.to_parquet(work / f"{name}.parquet")


def _group_snapshot(spec: dict[str, Any], records: list) -> None:
    from .features import snapshot

    work = Path(spec["work"])
    merchants, activity = _read(work, "merchants"), _read(work, "activity")
    with _Meter(records, "snapshot", spec["merchants"], len(activity)) as m:
        snap = snapshot(merchants, activity, spec["end_month"])
    m.note(f"{len(activity):,} activity rows -> {len(snap):,} merchants x {snap.shape[1]} features as of "
           f"{spec['end_month']}; single-threaded numpy")
    snap.to_parquet(work / "snapshot.parquet")


def _group_reference(spec: dict[str, Any], records: list) -> None:
    """Runs under bench/.venv: polars and DuckDB, no pandas."""
    import duckdb
    import polars as pl

    work, fields, n = Path(spec["work"]), spec["sum_fields"], spec["merchants"]
    end = int(spec["end_month"][:4]) * 12 + int(spec["end_month"][5:7]) - 1
    windows = {w: (end - back_lo, end - back_hi) for w, (back_lo, back_hi) in _WINDOWS.items()}
    what = (f"first month, months with sales and {len(fields)} fields x {len(windows)} windows "
            f"({', '.join(windows)}) summed per merchant, month text parsed inside the timing")
    act = pl.read_parquet(work / "activity.parquet", columns=["merchant_id", "month", *fields])
    month = (pl.col("month").str.slice(0, 4).cast(pl.Int32) * 12 + pl.col("month").str.slice(5, 2).cast(pl.Int32) - 1)
    aggs = [pl.col("mi").min().alias("first_month"), (pl.col("gmv_krw") > 0).sum().alias("months_active")]
    aggs += [pl.col(f).filter(pl.col("mi").is_between(lo, hi)).sum().alias(f"{f}_{w}")
             for w, (lo, hi) in windows.items() for f in fields]
    with _Meter(records, "reference_polars", n, act.height) as m:
        ours = act.lazy().with_columns(month.alias("mi")).filter(pl.col("mi") <= end).group_by("merchant_id") \
            .agg(aggs).collect()
    m.note(f"polars {pl.__version__}, {pl.thread_pool_size()} threads: {what}")
    snap = pl.read_parquet(work / "snapshot.parquet", columns=["merchant_id", "gmv_12m_total_krw"])
    joined = snap.join(ours.select("merchant_id", "gmv_krw_12m"), on="merchant_id", how="full")
    diff = (joined["gmv_12m_total_krw"] - joined["gmv_krw_12m"]).abs().max()
    m.note(f"check: {joined.height:,} merchants, max |gmv_12m_total_krw - polars sum| = {diff}")
    del ours, act
    con = duckdb.connect()
    con.execute(f"CREATE TABLE act AS SELECT merchant_id, month, {', '.join(fields)} "
                f"FROM read_parquet('{work / 'activity.parquet'}')")
    sums = ", ".join(f"sum({f}) FILTER (WHERE mi BETWEEN {lo} AND {hi}) AS {f}_{w}"
                     for w, (lo, hi) in windows.items() for f in fields)
    sql = (f"CREATE TABLE res AS SELECT merchant_id, min(mi) AS first_month, count(*) FILTER (WHERE gmv_krw > 0) "
           f"AS months_active, {sums} FROM (SELECT *, CAST(substr(month, 1, 4) AS INTEGER) * 12 "
           f"+ CAST(substr(month, 6, 2) AS INTEGER) - 1 AS mi FROM act) WHERE mi <= {end} GROUP BY merchant_id")
    rows = con.execute("SELECT count(*) FROM act").fetchone()[0]
    with _Meter(records, "reference_duckdb", n, rows) as m:
        con.execute(sql)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    out_rows, total = con.execute("SELECT count(*), sum(gmv_krw_12m) FROM res").fetchone()
    m.note(f"duckdb {duckdb.__version__}, {threads} threads, result kept as a DuckDB table: {what}")
    m.note(f"check: {out_rows:,} merchants, total 12m GMV {total:,} vs ours {int(snap['gmv_12m_total_krw'].sum()):,}")


def _group_train(spec: dict[str, Any], records: list) -> None:
    from .book import Book
    from .model import train_model
    from .pipeline import training_table

    work, n = Path(spec["work"]), spec["merchants"]
    book = Book(_read(work, "merchants"), _read(work, "activity"), _read(work, "outcomes"))
    with _Meter(records, "training_table", n, len(book.outcomes)) as m:
        X, y, period, true_pd, _ = training_table(book)
    m.note(f"{book.outcomes['snapshot_month'].nunique()} outcome snapshots -> {len(X):,} rows x {X.shape[1]} features")
    del book, _
    with _Meter(records, "train_model", n, len(X)) as m:
        model = train_model(X, y, time=period, oracle_pd=true_pd)
    card = model.card
    m.note(f"LightGBM, {card['best_iteration']} trees x {card['params']['num_leaves']} leaves (early stopping), "
           f"{card['params']['num_threads']} threads; out-of-time AUC {card['metrics']['auc']:.4f}, "
           f"oracle AUC {card['metrics'].get('oracle_auc', float('nan')):.4f}; "
           f"train {card['validation']['train']['rows']:,} / valid {card['validation']['valid']['rows']:,} rows")
    model.save(work / "model")


def _group_score(spec: dict[str, Any], records: list) -> None:
    from .model import load_model

    work = Path(spec["work"])
    snap, model = _read(work, "snapshot"), load_model(work / "model")
    with _Meter(records, "score_book", spec["merchants"], len(snap)) as m:
        scores = model.score(snap)
    m.note(f"pd, score, grade for {len(scores):,} merchants ({model.card['best_iteration']} trees)")
    scores.to_parquet(work / "scores.parquet")


def _group_points(spec: dict[str, Any], records: list) -> None:
    import importlib

    import numpy as np

    from .explain import points_by_feature
    from .model import load_model

    work, n = Path(spec["work"]), spec["merchants"]
    snap, model = _read(work, "snapshot"), load_model(work / "model")
    sampled = len(snap) > spec["points_full_max"]
    rows = snap.sample(spec["points_sample"], random_state=0) if sampled else snap
    with _Meter(records, "points_book", n, len(rows)) as m:
        pts = points_by_feature(model, rows)
    m.note(f"LightGBM pred_contrib, {len(model.features)} features, {model.card['best_iteration']} trees")
    if sampled:
        m.record["extrapolated_seconds"] = m.record["seconds"] * len(snap) / len(rows)
        m.note(f"MEASURED ON A RANDOM {len(rows):,}-ROW SAMPLE, extrapolated linearly to the whole book "
               f"({len(snap):,} rows): {m.record['extrapolated_seconds']:.0f} s; the peak memory is the sample's")
    try:
        fast = importlib.import_module(".fastshap", __package__)
    except ImportError:
        return
    if not hasattr(fast, "pred_contrib"):
        m.note("cb_core.fastshap is importable but has no pred_contrib(model, X): not measured")
        return
    try:  # another engineer's module in progress: its failure is reported, not fatal to the run
        _fastshap_points(fast, model, rows, pts, m, len(snap), records)
    except Exception as exc:  # noqa: BLE001
        m.note(f"cb_core.fastshap failed: {type(exc).__name__}: {exc}")


def _fastshap_points(fast: Any, model: Any, rows: Any, pts: Any, lgb_meter: _Meter, book_rows: int,
                     records: list) -> None:
    """``cb_core.fastshap.pred_contrib`` on the rows ``points_by_feature`` explained, as points."""
    import numpy as np

    from .explain import _to_points

    n = lgb_meter.record["merchants"]
    import hashlib

    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(Path(fast.__file__).parent.glob("fastshap*.py"))))
    with _Meter(records, "fastshap_build", n, 10) as b:
        fast.explainer_for(model)
        fast.pred_contrib(model, rows.iloc[:10])
    b.note("cb_core.fastshap.explainer_for (parse the booster, build the tables) and a first call on 10 rows "
           f"(loads or compiles the numba kernels), once per model; source of cb_core/fastshap*.py "
           f"sha256 {digest.hexdigest()[:12]} (work in progress)")
    with _Meter(records, "points_fastshap", n, len(rows)) as f:
        fast_pts = _to_points(model, fast.pred_contrib(model, rows), rows.index)
    diff = float(np.nanmax(np.abs(fast_pts.to_numpy(dtype=float) - pts.to_numpy(dtype=float))))
    f.record["speedup_over_pred_contrib"] = lgb_meter.record["seconds"] / f.record["seconds"]
    cpu_ratio = lgb_meter.record["cpu_seconds"] / max(f.record["cpu_seconds"], 1e-9)
    f.note(f"cb_core.fastshap.pred_contrib -> points on the same rows: {f.record['speedup_over_pred_contrib']:.2f}x "
           f"faster than LightGBM pred_contrib by wall time, {cpu_ratio:.2f}x by CPU time; "
           f"max |difference| {diff:.3g} points")
    if len(rows) < book_rows:
        f.record["extrapolated_seconds"] = f.record["seconds"] * book_rows / len(rows)
        f.note(f"MEASURED ON THE SAME SAMPLE, extrapolated linearly to {book_rows:,} rows: "
               f"{f.record['extrapolated_seconds']:.0f} s")


def _group_explain(spec: dict[str, Any], records: list) -> None:
    import numpy as np

    from .model import load_model
    from .review import cutoff_reference, explain_merchant
    from .strategy import Policy

    work, n = Path(spec["work"]), spec["merchants"]
    snap, scores, model = _read(work, "snapshot"), _read(work, "scores"), load_model(work / "model")
    cutoff = Policy().approve_cutoff
    with _Meter(records, "cutoff_reference", n, min(400, len(snap))) as m:
        reference = cutoff_reference(model, snap, scores, cutoff=cutoff)
    m.note(f"mean points of <= 400 merchants scoring {cutoff:.0f}-{cutoff + 20:.0f} (once per book and cutoff)")
    ids = np.random.default_rng(1).choice(snap.index.to_numpy(), EXPLAIN_CALLS, replace=False)
    with _Meter(records, "explain_one", n, 1) as m:
        _timed_calls(m, [lambda i=i: explain_merchant(model, snap, i, reference) for i in ids])
    m.note("explain_merchant (points, score, category peer percentiles, reason codes) with the reference above")


def _group_curves(spec: dict[str, Any], records: list) -> None:
    import numpy as np

    from .strategy import CutoffCurves, Policy, strategy_frame

    work, n = Path(spec["work"]), spec["merchants"]
    snap, scores = _read(work, "snapshot"), _read(work, "scores")
    merchants, outcomes = _read(work, "merchants"), _read(work, "outcomes")
    with _Meter(records, "strategy_frame", n, len(scores)) as m:
        frame = strategy_frame(snap, scores, merchants, outcomes)
    m.note("scores + snapshot + merchants + latest outcome per merchant (once per book and model)")
    del merchants, outcomes
    policy = Policy()
    with _Meter(records, "curve_precompute", n, len(frame)) as m:
        curves = CutoffCurves.precompute(frame, policy)
    m.note(f"sort by score and running sums; {len(curves.scores_desc)} distinct scores")
    cutoffs = np.random.default_rng(2).integers(450, 751, SLIDER_CALLS).astype(float)
    with _Meter(records, "slider_at", n, 1) as m:
        _timed_calls(m, [lambda c=c: curves.at(c) for c in cutoffs])
    m.note("CutoffCurves.at at random approve cutoffs 450-750 (one slider move)")


def _group_offers(spec: dict[str, Any], records: list) -> None:
    from .offers import load_products, match_book

    work, n = Path(spec["work"]), spec["merchants"]
    snap = _read(work, "snapshot", columns=["months_active", "gmv_3m_avg_krw", "category"])
    frame = _read(work, "scores").join(snap)
    products = load_products()
    with _Meter(records, "match_book", n, len(frame)) as m:
        result = match_book(frame, products)
    with_offer = int((result[("best", "n_eligible")] > 0).sum())
    m.note(f"{len(frame):,} merchants x {len(products)} products; {with_offer:,} merchants with an offer")


_CHILDREN: dict[str, Callable[[dict[str, Any], list], None]] = {
    "generate": _group_generate, "snapshot": _group_snapshot, "reference": _group_reference,
    "train": _group_train, "score": _group_score, "points": _group_points, "explain": _group_explain,
    "curves": _group_curves, "offers": _group_offers,
}


def _child(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    records: list[dict[str, Any]] = []
    run = _CHILDREN[spec["group"]]
    if spec.get("profile"):
        _profiled(run, spec, records)
    else:
        run(spec, records)
    for r in records:
        r["notes"] = "; ".join(r["notes"])
    Path(spec["out"]).write_text(json.dumps(records), encoding="utf-8")
    return 0


def _profiled(run: Callable, spec: dict[str, Any], records: list) -> None:
    """Run a group under pyinstrument (from bench/.venv) or cProfile; the report goes to bench/out/."""
    for site in sorted((BENCH_DIR / ".venv" / "lib").glob("python*/site-packages")):
        sys.path.append(str(site))  # after the app's packages, which keep precedence
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    target = PROFILE_DIR / f"profile-{spec['group']}-{spec['merchants']}.txt"
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.runcall(run, spec, records)
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(40)
        target.write_text(text.getvalue(), encoding="utf-8")
    else:
        prof = Profiler(interval=0.005)
        prof.start()
        run(spec, records)
        prof.stop()
        target.write_text(prof.output_text(unicode=True, show_all=False), encoding="utf-8")
    for r in records:
        r["notes"].append(f"PROFILED (times include profiler overhead): {target.relative_to(ROOT)}")


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
        done = subprocess.run([str(python), "-m", "cb_core.bench", "--child", str(spec_path)], cwd=ROOT, env=env,
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
    import shutil

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
                    if group == "reference":
                        from .features import _SUM_FIELDS

                        spec["sum_fields"] = list(_SUM_FIELDS)
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


# ------------------------------------------------------------------ machine facts and RESULTS.md

def machine_facts() -> dict[str, Any]:
    """nproc, total memory, CPU model, Python and library versions, the commit."""
    def read(path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    mem = [line.split()[1] for line in read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")]
    cpu = [line.split(":", 1)[1].strip() for line in read("/proc/cpuinfo").splitlines() if line.startswith("model name")]
    versions = {}
    for pkg in ("numpy", "pandas", "pyarrow", "lightgbm"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "absent"

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "mem_total_gib": round(int(mem[0]) / 2**20, 1) if mem else None,
            "cpu_model": cpu[0] if cpu else platform.processor() or "unknown",
            "python": platform.python_version(), "versions": versions,
            "commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:,.2f} s"


def results_section(records: list[dict[str, Any]], facts: dict[str, Any], command: str,
                    load_start: tuple[float, ...], load_end: tuple[float, ...], started: datetime,
                    wall: float, child_env: dict[str, str] | None = None) -> str:
    """The Markdown section of one run: machine facts, command, load, and the table of records."""
    v = facts["versions"]
    sizes = sorted({r["merchants"] for r in records})
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC: {', '.join(f'{n:,}' for n in sizes)} merchants",
        "",
        f"- Command: `{command}` (total {wall:,.0f} s wall)",
        f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB total memory, CPU `{facts['cpu_model']}`; "
        f"Python {facts['python']}, numpy {v['numpy']}, pandas {v['pandas']}, pyarrow {v['pyarrow']}, "
        f"lightgbm {v['lightgbm']}",
        f"- Commit {facts['commit']}{' with uncommitted changes in the tree' if facts['dirty'] else ''}",
        *([f"- Step processes' extra environment: `{' '.join(f'{k}={v}' for k, v in child_env.items())}`"]
          if child_env else []),
        f"- Load average (1/5/15 min) at start {' / '.join(f'{x:.2f}' for x in load_start)}, at end "
        f"{' / '.join(f'{x:.2f}' for x in load_end)}. Other engineers' processes share these 2 cores: "
        "every time below is an upper bound.",
        "- Time: wall clock of the step alone; CPU: the process's CPU seconds over it (all threads). Peak RSS "
        "(MiB): the step's own child process, peak mark reset just before the step (includes the interpreter, "
        "libraries and the inputs the step holds, after Arrow's pool returned what the parquet reads left). "
        "Load 1m: at the step's start -> end.",
        "",
        "| step | merchants | rows | time | CPU s | peak RSS MiB | load 1m | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in records:
        load = "—" if r.get("load_1m_end") is None else f"{r['load_1m_start']:.2f} -> {r['load_1m_end']:.2f}"
        status = "" if r.get("status") == "ok" else f"**{r.get('status')}**: "
        rows = "—" if r.get("rows") is None else f"{r['rows']:,}"
        peak = "—" if r.get("peak_rss_mb") is None else f"{r['peak_rss_mb']:,.0f}"
        notes = status + str(r.get("notes", "")).replace("|", "\\|")
        cpu = "—" if r.get("cpu_seconds") is None else f"{r['cpu_seconds']:,.3g}"
        lines.append(f"| {r['step']} | {r['merchants']:,} | {rows} | {_fmt_seconds(r.get('seconds'))} | {cpu} | "
                     f"{peak} | {load} | {notes} |")
    return "\n".join(lines) + "\n"


def append_results(path: Path, section: str) -> None:
    """Append ``section`` to ``path``, keeping what is there (a header first when the file is new)."""
    path = Path(path)
    existing = path.read_text(encoding="utf-8") if path.exists() else (
        "# Benchmark results\n\nWritten by `python -m cb_core.bench` (see bench/README.md). One section per "
        "run, newest last; earlier sections are kept as they were.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------ command line

def _add_arguments(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--child", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cb_core.bench", description=__doc__.splitlines()[0])
    _add_arguments(p)
    return p


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``bench`` on a CLI's subparsers (``python -m cb_core bench ...``); its ``func`` runs it."""
    p = subparsers.add_parser("bench", help="benchmark every engine step on demo books (bench/README.md)",
                              description=__doc__.splitlines()[0])
    _add_arguments(p)
    p.set_defaults(func=run_args)
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m cb_core.bench ...``; returns 0 when every reported step ran (skips included), 1 when
    one failed, 2 on bad options."""
    try:
        return run_args(build_parser().parse_args(argv))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run_args(args: argparse.Namespace) -> int:
    """Run from parsed arguments (see :func:`main`)."""
    if args.child:
        return _child(args.child)
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
    return 0 if all(r["status"] in ("ok", "skipped") for r in records) else 1


__all__ = ["GROUPS", "RECORD_KEYS", "add_command", "append_results", "machine_facts", "main", "results_section", "run",
           "run_args"]

if __name__ == "__main__":
    sys.exit(main())
