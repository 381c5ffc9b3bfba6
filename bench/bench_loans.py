"""Benchmark: the booked-loan analytics on the demo book (issue #16).

Usage (from the repository root)::

    python -m bench.bench_loans watchlist --merchants 20000 --seed 7
    python -m bench.bench_loans commands --merchants 1000000 --seed 7

``watchlist`` builds the demo book with its loans (``generate_book`` + ``with_demo_loans``; the loans
default exactly at the book's own default events, ``default_events``), trains a model on it
(``train_with_report``) and runs the watch-list every month over the book's history
(:func:`cb_core.loans.watchlist_lift`): of open loans flagged ``high`` (not yet 90+), the share that
reach 90+ days past due within 6 months, against the base rate of all observed open loans (lift),
and the median months from a loan's first high flag to its 90+ month (lead). Three readings:
every trigger (``past_due`` included, 30+ days past due is high by itself); loans not yet 30 days
past due (the roll not under way); and ``leading_only`` (three or more triggers other than
``past_due``: what warns before any missed payment).

``commands`` times the whole command lines as a user runs them, each in its own process:
``python -m cb_core demo-data`` (its JSON gives the loan booking's own seconds), then ``vintages``,
``backtest --model`` and ``watchlist --model`` on that book. The model is trained on a small demo
book (``--model-merchants``, not timed): the commands' cost does not depend on what the model
learned. Wall seconds and peak RSS of each process (``os.wait4``'s ``ru_maxrss``), with the load
average before and after.

Both print one JSON line per record on stdout and append a section to ``bench/RESULTS.md``
(``--results``; ``--no-results`` to skip).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .results import append_results, machine_facts
from .serve import ROOT

RESULTS = ROOT / "bench" / "RESULTS.md"
#: The watch-list readings: label, ``watchlist_lift`` options.
READINGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("all triggers (30+ days past due is high)", {}),
    ("not yet 30 days past due at the flag", {"below_dpd": 30}),
    ("leading only (3+ triggers besides past_due)", {"leading_only": True}),
)


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


def _header(title: str, command: str, facts: dict[str, Any], started: datetime, wall: float,
            load_start: tuple[float, ...], load_end: tuple[float, ...]) -> list[str]:
    v = facts["versions"]
    return [
        f"## {started:%Y-%m-%d %H:%M} UTC: {title}", "",
        f"- Command: `{command}` (total {wall:,.0f} s wall)",
        f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB total memory, CPU `{facts['cpu_model']}`; "
        f"Python {facts['python']}, numpy {v['numpy']}, pandas {v['pandas']}, pyarrow {v['pyarrow']}, "
        f"lightgbm {v['lightgbm']}",
        f"- Commit {facts['commit']}{' with uncommitted changes in the tree' if facts['dirty'] else ''}",
        f"- Load average (1/5/15 min) at start {' / '.join(f'{x:.2f}' for x in load_start)}, at end "
        f"{' / '.join(f'{x:.2f}' for x in load_end)}. Other engineers' processes share these cores: every time "
        "below is an upper bound.",
    ]


# --------------------------------------------------------------------------- watch-list lift and lead

def watchlist_run(merchants: int, seed: int, months: int = 24, horizon: int = 6) -> dict[str, Any]:
    """The demo book, a model trained on it and the watch-list readings (see the module docstring)."""
    from cb_core.loans import watchlist_lift, with_demo_loans
    from cb_core.model import train_with_report
    from cb_core.synth import generate_book

    t0 = time.perf_counter()
    book = with_demo_loans(generate_book(merchants, months, seed), seed)
    t1 = time.perf_counter()
    model, _ = train_with_report(book, seed=seed, challenger=False)  # the model alone: no challenger, no variants
    t2 = time.perf_counter()
    lm = book.loan_months
    bad_loans = int(lm.loc[lm["status"].isin(["dpd_90_plus", "charged_off"]), "loan_id"].nunique())
    out: dict[str, Any] = {"merchants": merchants, "months": months, "seed": seed, "horizon_months": horizon,
                           "loans": len(book.loans), "loans_reaching_90": bad_loans,
                           "default_events": 0 if book.default_events is None else len(book.default_events),
                           "book_seconds": round(t1 - t0, 1), "train_seconds": round(t2 - t1, 1), "readings": []}
    for label, options in READINGS:
        started = time.perf_counter()
        r = watchlist_lift(book, model, horizon=horizon, **options)
        out["readings"].append({"reading": label, **r, "seconds": round(time.perf_counter() - started, 1)})
    return out


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "—"
    return f"{x:,}" if isinstance(x, int) else f"{x:.{digits}f}"


def watchlist_section(result: dict[str, Any], facts: dict[str, Any], command: str, started: datetime, wall: float,
                      load_start: tuple[float, ...], load_end: tuple[float, ...]) -> str:
    r = result
    lines = _header(f"watch-list lift and lead, {r['merchants']:,} merchants x {r['months']} months", command,
                    facts, started, wall, load_start, load_end)
    lines += [
        f"- Book: demo book seed {r['seed']}, {r['loans']:,} demo loans ({r['loans_reaching_90']:,} reach 90+ days "
        f"past due), {r['default_events']:,} merchants with a default event; built in {r['book_seconds']} s, "
        f"model trained on it in {r['train_seconds']} s.",
        f"- Each month with a booked loan and {r['horizon_months']} months of book after it, every open loan not yet "
        f"90+ days past due is one observation; bad = reaches 90+ within {r['horizon_months']} months. Lift = share "
        "of high flags that go bad / base rate; lead = median months from a loan's first high flag to its 90+ month.",
        "",
        "| reading | observations | flagged high | high reaching 90+ | base rate | lift | loans warned | "
        "median lead (months) | time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for x in r["readings"]:
        lines.append(f"| {x['reading']} | {_fmt(x['observations'])} | {_fmt(x['flagged_high'])} | "
                     f"{_fmt(100 * x['share_high_reaching_90'], 1)}% | {_fmt(100 * x['base_rate'], 2)}% | "
                     f"{_fmt(x['lift'], 1)} | {_fmt(x['loans_warned'])} | {_fmt(x['median_lead_months'], 1)} | "
                     f"{x['seconds']} s |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- whole commands at scale

def run_command(args: list[str]) -> dict[str, Any]:
    """Run ``python -m cb_core ARGS`` in a child process (from the current folder): wall seconds, the
    child's own peak RSS in MiB (``os.wait4``'s ``ru_maxrss``), the 1-minute load before and after, and
    the last JSON line it printed."""
    load_start = _load()[0]
    out_r, out_w = os.pipe()
    err_fd, err_name = tempfile.mkstemp(prefix="cb-bench-loans-", suffix=".err")
    err_path = Path(err_name)
    started = time.perf_counter()
    pid = os.posix_spawn(sys.executable, [sys.executable, "-m", "cb_core", *args], dict(os.environ),
                         file_actions=[(os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_fd, 2),
                                       (os.POSIX_SPAWN_CLOSE, out_r)])
    os.close(err_fd)
    os.close(out_w)
    with os.fdopen(out_r) as fh:
        stdout = fh.read()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text(errors="replace")
    err_path.unlink()
    try:
        summary = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
    except ValueError:
        summary = {}
    return {"command": args[0], "seconds": round(wall, 2), "exit": code, "peak_rss_mib": round(usage.ru_maxrss / 1024),
            "load_1m_start": round(load_start, 2), "load_1m_end": round(_load()[0], 2), "summary": summary,
            "stderr": stderr[-800:] if code else ""}


def commands_run(merchants: int, seed: int, workdir: Path, model_merchants: int = 20_000,
                 months: int = 24) -> list[dict[str, Any]]:
    """The book, a small model, then vintages, backtest and watchlist on the book (module docstring)."""
    book, small, model = workdir / "book", workdir / "model-book", workdir / "model"
    records = [run_command(["demo-data", "--merchants", str(merchants), "--months", str(months), "--seed", str(seed),
                              "--out", str(book)])]
    if records[-1]["exit"]:
        return records
    for prep in (["demo-data", "--merchants", str(model_merchants), "--months", str(months), "--seed", str(seed),
                  "--no-loans", "--out", str(small)],
                 ["train", "--data", str(small), "--seed", str(seed), "--out", str(model)]):
        done = run_command(prep)
        if done["exit"]:
            return records + [{**done, "command": f"(model) {prep[0]}"}]
    records.append(run_command(["vintages", "--data", str(book), "--out", str(workdir / "vintages.parquet")]))
    records.append(run_command(["backtest", "--data", str(book), "--model", str(model),
                                  "--out", str(workdir / "backtest.parquet")]))
    records.append(run_command(["watchlist", "--data", str(book), "--model", str(model),
                                  "--out", str(workdir / "watchlist.parquet")]))
    return records


def commands_section(records: list[dict[str, Any]], merchants: int, model_merchants: int, facts: dict[str, Any],
                     command: str, started: datetime, wall: float, load_start: tuple[float, ...],
                     load_end: tuple[float, ...]) -> str:
    lines = _header(f"loan commands, {merchants:,} merchants x 24 months", command, facts, started, wall,
                    load_start, load_end)
    lines += [
        "- Each command is its own process, run one after another with nothing else of ours running: wall seconds "
        "of the whole command line (interpreter start, reading and validating the book, the analysis, writing), "
        "peak RSS of that process (`ru_maxrss`). `backtest` and `watchlist` use a model trained on a "
        f"{model_merchants:,}-merchant demo book (training not timed).",
        "",
        "| command | time | peak RSS MiB | load 1m | notes |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for r in records:
        s = r.get("summary", {})
        if r["exit"]:
            notes = f"**failed (exit {r['exit']})**: " + r.get("stderr", "").strip().splitlines()[-1:][0] \
                if r.get("stderr", "").strip() else f"**failed (exit {r['exit']})**"
        elif r["command"] == "demo-data":
            sec = s.get("seconds", {})
            notes = (f"{s.get('loans', 0):,} loans; generate {sec.get('generate', '—')} s, loan booking "
                     f"{sec.get('loans', '—')} s, writing the rest")
        else:
            notes = f"{s.get('rows', 0):,} rows out" + (f"; {s['severity']}" if "severity" in s else "") + \
                (f"; lights {s['lights']}" if "lights" in s else "")
        lines.append(f"| `{r['command']}` | {r['seconds']:,.1f} s | {r['peak_rss_mib']:,} | "
                     f"{r['load_1m_start']:.2f} -> {r['load_1m_end']:.2f} | {notes.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_loans", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("watchlist", "commands"))
    parser.add_argument("--merchants", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model-merchants", type=int, default=20_000, help="commands: the model's training book")
    parser.add_argument("--workdir", type=Path, help="commands: where the books go (a temporary folder by default)")
    parser.add_argument("--keep", action="store_true", help="commands: keep the work folder")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args(argv)
    if args.merchants < 1 or args.model_merchants < 1:
        parser.error("--merchants and --model-merchants must be at least 1")
    os.chdir(ROOT)  # the commands run as ``python -m cb_core`` from the repository root
    command = "python -m bench.bench_loans " + " ".join(argv if argv is not None else sys.argv[1:])
    started, t0, load_start = datetime.now(timezone.utc), time.perf_counter(), _load()
    facts = machine_facts()
    if args.what == "watchlist":
        result = watchlist_run(args.merchants, args.seed)
        print(json.dumps(result, ensure_ascii=False))
        section = watchlist_section(result, facts, command, started, time.perf_counter() - t0, load_start, _load())
        failed = False
    else:
        work = Path(tempfile.mkdtemp(prefix="cb-bench-loans-", dir=args.workdir))
        try:
            records = commands_run(args.merchants, args.seed, work, args.model_merchants)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        for r in records:
            print(json.dumps(r, ensure_ascii=False))
        section = commands_section(records, args.merchants, args.model_merchants, facts, command, started,
                                   time.perf_counter() - t0, load_start, _load())
        failed = any(r["exit"] for r in records)
    if not args.no_results:
        append_results(args.results, section)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
