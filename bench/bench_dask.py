"""Benchmark: the Dask batch (validation, snapshot, scores, explanations, offers) on 1 and 2 local workers.

Usage::

    python -m bench.bench_dask --merchants 200000
    python -m bench.bench_dask --book /tmp/b1m --model /tmp/m20k --partitions 20 --repeat 1
    python -m bench.bench_dask --book /tmp/b1m --model /tmp/m20k --partitions 20 --repeat 1 \
        --reference-tree /tmp/main-before --workers 1 --no-reference

``--book DIR`` reuses a demo book already written (its merchant count is read from it). The run's
figures are printed as JSON and appended to ``bench/RESULTS.md`` as a section (``--no-write``: print only).

Not timed: the demo book of ``--merchants`` merchants x 24 months (seed 7) written as Parquet, and
the model (trained on the default 20,000-merchant demo book, or ``--model DIR``). Timed, each on a
fresh ``LocalCluster(processes=True, threads_per_worker=1)``: :func:`cb_core.batch.run.run_batch` with
explanations and offers on 1 worker, then on 2 workers, with the same partitions. Also timed, as a
reference: the single-machine path in this process (``read_book``, ``current_snapshot``,
``score_frame(explain=True)``, ``match_book``), step by step.

``--reference-tree DIR`` (a checkout of another commit, e.g. ``git archive REV | tar -x -C DIR``)
also runs that tree's batch on the same book, model and partitions, each run alternating with this
tree's; every batch then runs in a child process of its own (``python`` with the tree as its
working directory and first on ``sys.path``), so neither inherits the other's memory.

Each worker count runs ``--repeat`` times (the fastest counts) in alternation, so that a burst of
load from other processes on a shared machine hits both alike. Prints one JSON object: machine
facts, every run (wall seconds, the workers' CPU seconds and the share of their cores they got),
the speed-up of 2 workers over 1, and a projection for 30,000,000 merchants with its assumptions.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import machine_facts, publish  # noqa: E402

PROJECT_MERCHANTS = 30_000_000
PROJECT_CORES = (2, 16, 64, 256)


def _build(args: argparse.Namespace, work: Path) -> tuple[Path, Path]:
    from cb_core.model.credit_model import train_model
    from cb_core.features.pipeline import training_table
    from cb_core.data.sources import write_book
    from cb_core.synth.generate import generate_book

    if args.book:
        book_dir = Path(args.book)
    else:
        book_dir = write_book(generate_book(args.merchants, args.months, args.seed), work / "book")
    if args.model:
        return book_dir, Path(args.model)
    X, y, t, true_pd, _ = training_table(generate_book(20_000, args.months, 7))
    model_dir = train_model(X, y, time=t, oracle_pd=true_pd).save(work / "model")
    return book_dir, model_dir


def _reference(book_dir: Path, model_dir: Path) -> dict[str, float]:
    """The single-machine path in this process, step by step (LightGBM on every core)."""
    from cb_core.model.credit_model import load_model
    from cb_core.offers import load_products, match_book
    from cb_core.features.pipeline import current_snapshot
    from cb_core.explain.points import points_by_feature
    from cb_core.data.sources import read_book

    steps: dict[str, float] = {}
    t = time.perf_counter()
    book = read_book(book_dir)
    steps["read_and_validate"] = time.perf_counter() - t
    t = time.perf_counter()
    snap = current_snapshot(book)
    steps["snapshot"] = time.perf_counter() - t
    model = load_model(model_dir)
    t = time.perf_counter()
    scores = model.score(snap)
    steps["score"] = time.perf_counter() - t
    t = time.perf_counter()
    points_by_feature(model, snap)
    steps["explain"] = time.perf_counter() - t
    t = time.perf_counter()
    match_book(scores.join(snap[["months_active", "gmv_3m_avg_krw", "category"]]), load_products())
    steps["offers"] = time.perf_counter() - t
    steps["total"] = sum(steps.values())
    return {k: round(v, 2) for k, v in steps.items()}


def _warm_up() -> None:
    # what a partition's work imports (pandas, LightGBM, pandera and the engine), by public names
    from cb_core import CreditModel, match_book, points_by_feature, snapshot, training_table, validate_tables  # noqa: F401


def _cpu_seconds() -> float:
    """CPU seconds this worker process has used (user + system)."""
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


def _peak_rss_mib() -> float:
    """This worker process's peak resident memory so far (MiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dask_run(book_dir: Path, model_dir: Path, out: Path, workers: int, partitions: int) -> dict[str, float]:
    """One timed batch on a fresh local cluster: wall seconds and the workers' CPU seconds."""
    from distributed import Client, LocalCluster

    from cb_core.batch.run import run_batch

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        started = time.perf_counter() - t
        t = time.perf_counter()
        client.run(_warm_up)  # imports in each worker process: a fixed cost, not throughput
        warm = time.perf_counter() - t
        cpu_before = sum(client.run(_cpu_seconds).values())
        result = run_batch(book_dir, out, model=model_dir, client=client, explain=True, offers=True,
                           partitions=partitions, overwrite=True)
        cpu = sum(client.run(_cpu_seconds).values()) - cpu_before
        peak = max(client.run(_peak_rss_mib).values())
    return {"workers": workers, "partitions": result.partitions, "rows": result.rows,
            "partitioned_by": getattr(result, "partitioned_by", "shuffle"),
            "cluster_start_s": round(started, 2), "worker_imports_s": round(warm, 2), "batch_s": result.seconds,
            "worker_cpu_s": round(cpu, 1), "worker_peak_rss_mib": round(peak),
            # how much of its cores the run got: below 1 when other processes share the machine
            "cpu_share_of_workers": round(cpu / (result.seconds * workers), 2),
            "merchants_per_s": round(result.rows / result.seconds, 1),
            "load_avg_1m_before": round(load_before, 2), "load_avg_1m_after": round(os.getloadavg()[0], 2)}


def _dask_run_in(tree: Path, book_dir: Path, model_dir: Path, out: Path, workers: int, partitions: int) -> dict:
    """:func:`_dask_run` with the code of ``tree`` (its ``bench`` and ``cb_core``), in a child process."""
    code = ("import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "from bench.bench_dask import _dask_run; "
            "print('RUN ' + json.dumps(_dask_run(*map(Path, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6]))))")
    done = subprocess.run([sys.executable, "-c", code, str(tree), str(book_dir), str(model_dir), str(out), str(workers),
                           str(partitions)], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the batch of {tree} failed:\n{done.stderr[-3000:]}")
    line = [x for x in done.stdout.splitlines() if x.startswith("RUN ")][-1]
    return json.loads(line[4:])


def _runs(args: argparse.Namespace, book_dir: Path, model_dir: Path, work: Path) -> list[dict]:
    """Every batch run: per repeat and worker count, the reference tree's (when given), then this tree's."""
    workers = [int(w) for w in str(args.workers).split(",")]
    if not args.reference_tree:
        return [_dask_run(book_dir, model_dir, work / f"out{w}", w, args.partitions)
                for _ in range(args.repeat) for w in workers]
    here, there = Path(__file__).resolve().parent.parent, Path(args.reference_tree).resolve()
    every = []
    for _ in range(args.repeat):
        for w in workers:
            for code, tree in (("reference", there), ("this tree", here)):
                run = _dask_run_in(tree, book_dir, model_dir, work / f"out{w}", w, args.partitions)
                every.append({"code": code, **run})
                print(json.dumps(every[-1]), file=sys.stderr, flush=True)
    return every


def _best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["batch_s"])


def _projection(two: dict) -> dict[str, object]:
    """30M merchants from the CPU seconds per merchant of the 2-worker run (robust to a shared machine)."""
    cpu_per_merchant = two["worker_cpu_s"] / two["rows"]
    hours = {str(c): round(PROJECT_MERCHANTS * cpu_per_merchant / c / 3600, 2) for c in PROJECT_CORES}
    return {
        "merchants": PROJECT_MERCHANTS,
        "cpu_ms_per_merchant": round(1000 * cpu_per_merchant, 3),
        "cpu_hours": round(PROJECT_MERCHANTS * cpu_per_merchant / 3600, 1),
        "wall_hours_by_worker_cores": hours,
        "assumptions": [
            f"{1000 * cpu_per_merchant:.2f} ms of worker CPU per merchant, as measured in the 2-worker run "
            "(same model, 24 months of activity per merchant, cores as fast as this machine's), reading included "
            "(ranges of a sorted Parquet book: no shuffle)",
            "every worker core is fully available (unlike here, where other processes share the 2 cores) and "
            "the work per merchant stays constant as cores are added (the partitions are independent; each "
            "worker reads only its own merchants' row groups)",
            "the book is on storage every worker reads (object store or shared file system) faster than "
            "the workers consume it; ~600 partitions of 50,000 merchants, a few hundred MB of memory per task",
            "scheduler, client and cluster start-up and the workers' first imports are not counted",
        ],
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--partitions", type=int, default=8, help="same for both runs (default 8)")
    parser.add_argument("--model", help="model folder (default: train on the 20,000-merchant demo book)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per worker count; the fastest is kept")
    parser.add_argument("--no-reference", action="store_true", help="skip the single-machine reference")
    parser.add_argument("--work", help="scratch folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--book", help="an existing demo book folder to use (default: generate one)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/RESULTS.md")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated (default 1,2)")
    parser.add_argument("--reference-tree", help="another checkout whose batch runs alternately with this tree's")
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    load_start = os.getloadavg()
    if args.book:
        import pyarrow.parquet as pq

        args.merchants = pq.ParquetFile(Path(args.book) / "merchants.parquet").metadata.num_rows

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-dask-"))
    try:
        t = time.perf_counter()
        book_dir, model_dir = _build(args, work)
        prepared = time.perf_counter() - t
        reference = None if args.no_reference else _reference(book_dir, model_dir)
        every = _runs(args, book_dir, model_dir, work)
        mine = [r for r in every if r.get("code", "this tree") == "this tree"]
        runs = [_best([r for r in mine if r["workers"] == w]) for w in sorted({r["workers"] for r in mine})]
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    import dask
    import lightgbm

    report = {
        "benchmark": "dask batch: snapshot + scores + explanations + offers",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "dask": dask.__version__,
                    "lightgbm": lightgbm.__version__, "platform": platform.platform()},
        "merchants": args.merchants, "months": args.months, "preparation_s": round(prepared, 1),
        "single_machine_reference_s": reference,
        "runs": every,
        "reference_tree": args.reference_tree,
        "speedup_2_over_1": round(runs[0]["batch_s"] / runs[1]["batch_s"], 2) if len(runs) == 2 else None,
        # CPU seconds of 2 workers over 1 for the same book: the cost of distributing the work
        "cpu_ratio_2_over_1": round(runs[1]["worker_cpu_s"] / runs[0]["worker_cpu_s"], 2) if len(runs) == 2 else None,
        "projection": _projection(runs[-1]),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    publish(_section(report, started, load_start, " ".join(["python -m bench.bench_dask", *(argv or sys.argv[1:])])),
            write=not args.no_write)
    return report


def _section(report: dict, started: datetime, load_start: tuple[float, ...], command: str) -> str:
    """The run as a ``RESULTS.md`` section: the reference's steps and every cluster run."""
    facts = machine_facts(("numpy", "pandas", "pyarrow", "lightgbm", "dask"))
    v = facts["versions"]
    ref = report["single_machine_reference_s"]
    lines = [f"## {started:%Y-%m-%d %H:%M} UTC: Dask batch (python -m bench.bench_dask), {report['merchants']:,} merchants",
             "", f"- Command: `{command}`",
             f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB, CPU `{facts['cpu_model']}`; Python "
             f"{facts['python']}, " + ", ".join(f"{k} {x}" for k, x in v.items()),
             f"- Commit {facts['commit']}{' with uncommitted changes in the tree' if facts['dirty'] else ''}",
             f"- Load average (1 min) at start {load_start[0]:.2f}, at end {os.getloadavg()[0]:.2f}: other processes "
             "share the 2 cores, so wall times are upper bounds (the workers' CPU seconds are the steadier figure).",
             "- Each run: a fresh LocalCluster (one process per worker, one thread each), the whole batch "
             "(validate, snapshot, score, explain, offers, write one Parquet file per partition); "
             "worker imports and cluster start are not in `batch`.", ""]
    if ref:
        lines += ["Single machine, in one process (the reference): " + ", ".join(f"{k} {x:,.2f} s" for k, x in ref.items()), ""]
    if report["reference_tree"]:
        lines += [f"Reference: the batch of the checkout in `{report['reference_tree']}`, each run alternating with "
                  "this tree's, every run in a child process of its own.", ""]
    lines += ["| code | workers | partitions | rows | batch | worker CPU | CPU share | worker peak RSS | merchants/s | load 1m |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in report["runs"]:
        lines.append(f"| {r.get('code', 'this tree')} | {r['workers']} | {r['partitions']} | {r['rows']:,} | {r['batch_s']:,.1f} s | "
                     f"{r['worker_cpu_s']:,.1f} s | {r['cpu_share_of_workers']:.2f} | {r['worker_peak_rss_mib']:,} MiB | "
                     f"{r['merchants_per_s']:,.0f} | {r['load_avg_1m_before']:.2f} -> {r['load_avg_1m_after']:.2f} |")
    p = report["projection"]
    if report["speedup_2_over_1"] is not None:
        lines += ["", f"This tree, 2 workers over 1: {report['speedup_2_over_1']}x faster, {report['cpu_ratio_2_over_1']}x the CPU."]
    lines += ["", f"Projection to {p['merchants']:,} merchants: {p['cpu_ms_per_merchant']} ms CPU per merchant, "
              f"{p['cpu_hours']} CPU hours (assumptions in the JSON output)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
