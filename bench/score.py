"""The whole ``score --explain`` command against its references: ``python -m bench.score --merchants 50000``.

Measures, in one run and on one demo book and model:

- ``python -m cb_core score --model M --data BOOK --out F --explain`` as a child process, whole
  (interpreter start to exit): wall and CPU seconds and peak RSS (``ru_maxrss`` of the child);
- at 50,000 merchants the reference is ``shap.TreeExplainer(booster).shap_values(X)`` on the same
  booster and the same feature rows (explanation alone: no imports, no I/O, the rows precomputed),
  run alternately with the command (``--repeats`` times each), so both see the same load;
- with ``--reference REV``, the same command on a checkout of that commit (a temporary ``git
  worktree``), alternately too; at 1M merchants only when the machine has the memory for it, never
  two 1M processes at once;
- where the time goes: one more child runs the command's steps one by one (import, model, read,
  validate or trust, snapshot, predict and explain, write) with the peak-RSS mark reset before each.

Appends one section to bench/RESULTS.md (``--no-results``: print only). Standard library only at the
top: the engine runs in the child processes.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from .results import machine_facts, publish
from .serve import ROOT

#: Book sizes the benchmark knows (the demo book of that size is made when no --book is given).
SIZES = (20_000, 50_000, 1_000_000)
#: Where made inputs are kept and reused (git-ignored, like every generated book).
DEFAULT_WORKDIR = ROOT / "bench" / "out" / "score"


def _made(workdir: Path, merchants: int, model: str | None, book: str | None) -> tuple[str, str]:
    """The book and model to measure: those given, else the demo book of ``merchants`` (seed 7) and a
    model trained on the 20,000-merchant demo book, made once with the engine's own commands under
    ``workdir`` and reused by later runs."""
    def run(*argv: str) -> None:
        subprocess.run([sys.executable, "-m", "cb_core", *argv], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    workdir.mkdir(parents=True, exist_ok=True)
    if book is None:
        book = str(workdir / f"book{merchants}")
        if not (Path(book) / "merchants.parquet").exists():
            run("demo-data", "--merchants", str(merchants), "--out", book)
    if model is None:
        model = str(workdir / "model20000")
        if not (Path(model) / "booster.txt").exists():
            train_book = str(workdir / "book20000")
            if not (Path(train_book) / "merchants.parquet").exists():
                run("demo-data", "--merchants", "20000", "--out", train_book)
            run("train", "--data", train_book, "--out", model)
    return book, model
#: Memory (MiB) a 1M-merchant reference command may need (13.9 GB measured before this work).
REFERENCE_1M_MIB = 14_500


def _available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _child_env(env: dict | None) -> dict:
    """This process's environment with ``env`` laid over it (a value None removes the variable)."""
    out = {**os.environ, **(env or {})}
    return {k: v for k, v in out.items() if v is not None}


def _bytecode_env(pycache: Path) -> dict:
    """A child's environment that reads and writes compiled bytecode (``.pyc``) under ``pycache``
    (``PYTHONPYCACHEPREFIX``), as a normally installed venv has it beside every module: pip
    compiles it when it installs, Python writes it on the first import. Without it (a venv installed
    by uv without ``--compile-bytecode``, and ``PYTHONDONTWRITEBYTECODE`` set, as on this project's
    session machines) every process compiles numpy, pandas, pyarrow and numba from source."""
    return {"PYTHONPYCACHEPREFIX": str(pycache), "PYTHONDONTWRITEBYTECODE": None}


#: Processes that bound the command from below: the interpreter alone, it with the libraries a ``score`` of
#: the installed book needs (no engine, no work), and with pandas as well (what every score imported before).
FLOORS = {"`python -c pass`": "pass",
          "`python -c \"import numpy, pyarrow.parquet, pyarrow.compute\"`": "import numpy, pyarrow.parquet, pyarrow.compute",
          "`python -c \"import numpy, pandas, pyarrow.parquet\"`": "import numpy, pandas, pyarrow.parquet"}
#: How the children run: as this machine's environment has it, and with a bytecode cache.
MODES = ("as set up", "bytecode cached")


def _measured(argv: list[str], cwd: Path, env: dict | None = None) -> dict:
    """One child run to its end: wall, CPU seconds (user + system, all threads) and peak RSS, read
    from ``wait4`` (that child alone)."""
    start = time.perf_counter()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(argv, cwd=cwd, env=_child_env(env), stdout=subprocess.PIPE,
                                stderr=errfile)
        out = proc.stdout.read()  # to its end, then the child's own rusage
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        errfile.seek(0)
        err = errfile.read()
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024,
            "rc": proc.returncode, "stdout": out.decode(errors="replace"), "stderr": err.decode(errors="replace")[-2000:],
            "load_1m": (load0, os.getloadavg()[0])}


def _score_argv(python: str, book: str, model: str, out: Path) -> list[str]:
    return [python, "-m", "cb_core", "score", "--model", model, "--data", book, "--out", str(out), "--explain"]


# ------------------------------------------------------------------ children (run with -m bench.score --child ...)

_SHAP_CHILD = r"""
import json, sys, time
import numpy as np
import lightgbm as lgb
import shap
booster = lgb.Booster(model_file=sys.argv[1])
X = np.load(sys.argv[2])
t = time.perf_counter()
explainer = shap.TreeExplainer(booster)
build = time.perf_counter() - t
t = time.perf_counter()
values = explainer.shap_values(X)
explain = time.perf_counter() - t
print(json.dumps({"build_s": build, "explain_s": explain, "rows": int(len(X))}))
"""


def _rows_child(book: str, model: str, out: str) -> None:
    """The feature rows the command explains, as the matrix the booster reads (for shap)."""
    import numpy as np

    from cb_core.data import open_book
    from cb_core.features import current_snapshot
    from cb_core.model import load_model

    m = load_model(model)
    b, _ = open_book(book)
    np.save(out, m.matrix(current_snapshot(b)))


def _steps_child(book: str, model: str, out: str) -> None:
    """The command's steps one by one, as ``_cmd_score`` runs them; prints one JSON list."""
    started = time.perf_counter()
    marks: list[dict] = []
    last = [started, resource.getrusage(resource.RUSAGE_SELF)]

    def hwm() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def mark(step: str) -> None:
        now, usage = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        cpu = (usage.ru_utime + usage.ru_stime) - (last[1].ru_utime + last[1].ru_stime)
        marks.append({"step": step, "seconds": now - last[0], "cpu": cpu, "peak_mib": hwm()})
        Path("/proc/self/clear_refs").write_text("5")  # the next step's peak from here
        last[:] = [time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)]

    from cb_core.cli.score import _write_columns, _write_table
    from cb_core.data import open_book
    from cb_core.explain import score_columns, score_frame
    from cb_core.features import current_columns, current_snapshot
    from cb_core.model import load_model
    mark("import (engine, pyarrow; pandas is imported later only by a book that needs frames)")
    m = load_model(model)
    mark("load model (parse booster.txt)")
    b, checked = open_book(book)
    mark(f"read + validate ({'trusted' if checked != 'full' else 'full validation'})")
    columns = current_columns(b)  # the installed book: Arrow columns, no pandas (as the command takes it)
    features = columns[0] if columns is not None else current_snapshot(b)
    how = "Arrow columns, no pandas" if columns is not None else "frame, pandas imported"
    del b, columns
    import pyarrow as pa

    pa.default_memory_pool().release_unused()  # as the command does
    mark(f"snapshot (features: {how})")
    from cb_core.explain import kernels_beside

    kernels_beside(m, len(features), explain=True, lean=True).join()  # what the command loads beside the snapshot
    mark("kernels: explainer and its tables, the C kernels (kernels_beside, lean; alone here)")
    from cb_core.explain.fastshap import explainer_for

    explainer = explainer_for(m)
    matrix = m.matrix(features)
    scores = m.score_values(explainer.margins(matrix))
    mark("predict alone (margins, score, grade)")
    del matrix, scores
    if hasattr(features, "codes"):  # the command's own calls: margins from the explanation's pass
        values = score_columns(m, features, explain=True)
        mark("predict + explain (score_columns, one pass)")
        _write_columns(features.index, values, Path(out))
    else:
        frame = score_frame(m, features, explain=True)
        mark("predict + explain (score_frame, one pass)")
        frame.index.name = "merchant_id"
        _write_table(frame.reset_index(), Path(out))
    mark("write output")
    print(json.dumps({"steps": marks, "total_s": time.perf_counter() - started}))
    import gc

    gc.freeze()  # as python -m cb_core ends


# ------------------------------------------------------------------ the run

def measure(merchants: int, book: str, model: str, repeats: int, reference: str | None, shap_python: str) -> dict:
    """Every child of one run, alternating repeat by repeat: the command as this machine's
    environment runs it and with a bytecode cache (:func:`_bytecode_env`), shap's explanation, the
    floors (:data:`FLOORS`) and, with ``reference``, that commit's command; then the steps child in
    both modes. One warm-up command first (not counted): it fills the bytecode cache and, in a fresh
    checkout, numba's cache of the compiled kernels."""
    python = sys.executable
    result: dict = {"merchants": merchants, "book": book, "model": model, "runs": [], "runs_bytecode": [],
                    "shap": [], "reference": [], "floors": {label: {mode: [] for mode in MODES} for label in FLOORS}}
    with tempfile.TemporaryDirectory(prefix="cb-score-") as tmp:
        work = Path(tmp)
        envs = {MODES[0]: None, MODES[1]: _bytecode_env(work / "pycache")}
        ref_dir = None
        if reference:
            if merchants >= 1_000_000 and _available_mib() < REFERENCE_1M_MIB:
                result["reference_skipped"] = (f"{_available_mib():,.0f} MiB available, the reference needs about "
                                               f"{REFERENCE_1M_MIB:,} MiB")
                reference = None
            else:
                ref_dir = work / "reference"
                subprocess.run(["git", "worktree", "add", "--detach", "-q", str(ref_dir), reference], cwd=ROOT,
                               check=True)
        try:
            if merchants <= 100_000:
                rows = work / "rows.npy"
                done = subprocess.run([python, "-m", "bench.score", "--child", "rows", book, model, str(rows)],
                                      cwd=ROOT, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(done.stderr[-2000:])
            warm = _measured(_score_argv(python, book, model, work / "ours.parquet"), ROOT, envs[MODES[1]])
            if warm["rc"]:
                raise RuntimeError(f"score exited {warm['rc']}: {warm['stderr']}")
            result["warm_up"] = warm
            if ref_dir is not None:  # a fresh checkout compiles numba's kernels on its first run
                warm = _measured(_score_argv(python, book, model, work / "ref.parquet"), ref_dir,
                                 env={"PYTHONPATH": str(ref_dir)})
                if warm["rc"]:
                    raise RuntimeError(f"the reference's score exited {warm['rc']}: {warm['stderr']}")
                result["warm_up_reference"] = warm
            for i in range(repeats):
                for key, mode in (("runs", MODES[0]), ("runs_bytecode", MODES[1])):
                    run = _measured(_score_argv(python, book, model, work / "ours.parquet"), ROOT, envs[mode])
                    result[key].append(run)
                    if run["rc"]:
                        raise RuntimeError(f"score exited {run['rc']}: {run['stderr']}")
                if merchants <= 100_000:
                    shap = _measured([shap_python, "-c", _SHAP_CHILD, str(Path(model) / "booster.txt"), str(rows)], ROOT)
                    if shap["rc"]:
                        raise RuntimeError(f"shap child exited {shap['rc']}: {shap['stderr']}")
                    result["shap"].append({**shap, **json.loads(shap["stdout"].strip().splitlines()[-1])})
                for label, code in FLOORS.items():
                    for mode in MODES:
                        floor = _measured([python, "-c", code], ROOT, envs[mode])
                        if floor["rc"]:
                            raise RuntimeError(f"{label} exited {floor['rc']}: {floor['stderr']}")
                        result["floors"][label][mode].append(floor)
                if ref_dir is not None:
                    ref = _measured(_score_argv(python, book, model, work / "ref.parquet"), ref_dir,
                                    env={"PYTHONPATH": str(ref_dir)})
                    if ref["rc"]:
                        raise RuntimeError(f"the reference's score exited {ref['rc']}: {ref['stderr']}")
                    result["reference"].append(ref)
            result["steps"], result["steps_process"] = {}, {}
            for mode in MODES:
                steps = _measured([python, "-m", "bench.score", "--child", "steps", book, model,
                                   str(work / "steps.parquet")], ROOT, envs[mode])
                if steps["rc"]:
                    raise RuntimeError(f"steps child exited {steps['rc']}: {steps['stderr']}")
                result["steps"][mode] = json.loads(steps["stdout"].strip().splitlines()[-1])
                result["steps_process"][mode] = {k: steps[k] for k in ("wall", "cpu", "peak_mib")}
            if ref_dir is not None and result["reference"]:
                import_check = subprocess.run(
                    [python, "-c", "import pandas as pd, sys; a = pd.read_parquet(sys.argv[1]); "
                     "b = pd.read_parquet(sys.argv[2]); pd.testing.assert_frame_equal(a, b, check_exact=False, "
                     "rtol=1e-9, atol=1e-9); print('same')", str(work / "ours.parquet"), str(work / "ref.parquet")],
                    capture_output=True, text=True)
                result["same_output_as_reference"] = import_check.stdout.strip() == "same"
        finally:
            if ref_dir is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(ref_dir)], cwd=ROOT, check=False)
    return result


def section(result: dict, command: str, started: datetime, load: tuple) -> str:
    facts = machine_facts()
    n = result["merchants"]
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    lines = [f"## {started:%Y-%m-%d %H:%M} UTC: whole `score --explain` at {n:,} merchants (python -m bench.score)", "",
             f"- Command: `{command}`; book `{result['book']}` ({n:,} merchants x 24 months, demo loans), model "
             f"`{result['model']}` (trained on 20,000 merchants)",
             f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB, CPU `{facts['cpu_model']}`; Python "
             f"{facts['python']}; commit {facts['commit']}{' with uncommitted changes' if facts.get('dirty') else ''}",
             f"- Load average (1/5/15 min) at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, at end {load[3]:.2f} / "
             f"{load[4]:.2f} / {load[5]:.2f}. Other helpers' processes share these 2 cores: wall times are upper bounds.",
             "- Each command row: the whole process (`python -m cb_core score ... --explain`, interpreter start to exit); "
             "CPU = user + system of that child; peak RSS = its `ru_maxrss`.", "",
             "| what | runs | wall (median; each) | CPU s | peak RSS MiB | load 1m |", "| --- | ---: | --- | ---: | ---: | --- |"]

    def row(label: str, rows: list[dict], wall_key: str = "wall") -> None:
        if not rows:
            return
        each = ", ".join(f"{r[wall_key]:.1f}" for r in rows)
        loads = ", ".join(f"{r['load_1m'][0]:.1f}->{r['load_1m'][1]:.1f}" for r in rows)
        lines.append(f"| {label} | {len(rows)} | {med(rows, wall_key):.2f} s ({each}) | {med(rows, 'cpu'):.1f} | "
                     f"{med(rows, 'peak_mib'):,.0f} | {loads} |")

    row("`score --explain`, this tree, as set up", result["runs"])
    row("`score --explain`, this tree, bytecode cached", result.get("runs_bytecode", []))
    row("`shap.TreeExplainer(booster).shap_values(X)` alone (explanation only)", result["shap"], "explain_s")
    row("reference commit's `score --explain`", result["reference"])
    for label, by_mode in result.get("floors", {}).items():
        for mode, rows in by_mode.items():
            row(f"floor: {label}, {mode}", rows)
    if result.get("warm_up"):
        lines += ["", f"- One warm-up command before these (not counted; fills the bytecode cache and, on a model's first "
                      "explanation, keeps its explainer tables beside it): "
                      f"{result['warm_up']['wall']:.2f} s wall. \"As set up\": the environment of this run "
                      f"(PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')}; a venv "
                      "installed by uv without `--compile-bytecode` has no `.pyc`, so every process compiles numpy, "
                      "pandas, pyarrow and numba from source). \"Bytecode cached\": `PYTHONPYCACHEPREFIX` set to "
                      "a cache filled by the warm-up, as a venv installed by pip (or uv `--compile-bytecode`, "
                      "scripts/install.sh) has it."
                      + (f" The reference commit's command was warmed up once too ({result['warm_up_reference']['wall']:.2f} s; "
                         "its checkout is new, so numba compiled its kernels then)." if result.get("warm_up_reference") else "")]
    else:
        lines.append("")
    for key, mode in (("runs", MODES[0]), ("runs_bytecode", MODES[1])):
        if result["shap"] and result.get(key):
            pairs = [s["explain_s"] / r["wall"] for r, s in zip(result[key], result["shap"])]
            lines.append(f"- Ratio shap explanation alone / whole command ({mode}), run by run (alternating): "
                         f"{', '.join(f'{p:.2f}x' for p in pairs)}; median **{statistics.median(pairs):.2f}x** "
                         f"(goal ≥ 3x).")
    if result["shap"]:
        lines.append(f"- shap's TreeExplainer build (not counted): {med(result['shap'], 'build_s'):.2f} s.")
    if result.get("reference"):
        lines.append(f"- Same output as the reference commit (1e-9): {result.get('same_output_as_reference')}")
    if result.get("reference_skipped"):
        lines.append(f"- Reference command not run: {result['reference_skipped']}")
    steps = result.get("steps")
    if steps:
        modes = list(steps)
        procs = [result["steps_process"][m] for m in modes]
        peaks = [max(s["peak_mib"] for s in steps[m]["steps"]) for m in modes]
        lines += ["", "Where the time goes (one more child per mode running the command's steps one by one; "
                      + "; ".join(f"{m}: process {p['wall']:.1f} s wall, {p['cpu']:.1f} s CPU, {k:,.0f} MiB peak"
                                  for m, p, k in zip(modes, procs, peaks))
                      + "; the predict step is timed alone, then inside `score_columns` (the installed book, without "
                      "pandas) or `score_frame` (a book read as frames), whose margins come from the explanation's "
                      "own pass over the trees (the command's call). "
                      "The command itself loads the explainer and its kernels (C, built once per machine by "
                      "scripts/bytecode.sh; numba's where no compiler works) on a thread beside the snapshot "
                      "(`cb_core.explain.kernels_beside`), and its process ends without the collector's walk over "
                      "every module (`gc.freeze` in `cb_core/__main__.py`); here each step runs alone):",
                  "", "| step | " + " | ".join(f"wall, {m} | CPU s, {m}" for m in modes)
                  + " | peak RSS MiB (step) |", "| --- |" + " ---: | ---: |" * len(modes) + " ---: |"]
        for i, first in enumerate(steps[modes[0]]["steps"]):
            cells = []
            for m in modes:
                s = steps[m]["steps"][i]
                cells += [f"{s['seconds']:.2f} s", f"{s['cpu']:.2f}"]
            lines.append(f"| {first['step']} | " + " | ".join(cells) + f" | {first['peak_mib']:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        kind, *rest = argv[1:]
        {"rows": _rows_child, "steps": _steps_child}[kind](*rest)
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.score", description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=50_000, choices=SIZES)
    parser.add_argument("--book", help="book folder (default: the demo book of that size, made under --workdir)")
    parser.add_argument("--model", help="model folder (default: trained on the 20,000-merchant demo book)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="where made inputs are kept")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference", help="a commit whose command runs alternately beside this tree's")
    parser.add_argument("--shap-python", default=str(ROOT / "bench" / ".venv" / "bin" / "python")
                        if (ROOT / "bench" / ".venv" / "bin" / "python").exists() else sys.executable,
                        help="the Python with shap (bench/.venv when set up by bench/setup.sh)")
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args(argv)
    book, model = _made(args.workdir, args.merchants, args.model, args.book)
    book, model = str(Path(book).resolve()), str(Path(model).resolve())  # the reference runs in another folder
    started, load0 = datetime.now(timezone.utc), os.getloadavg()
    result = measure(args.merchants, book, model, args.repeats, args.reference, args.shap_python)
    text = section(result, shlex.join(getattr(sys, "orig_argv", sys.argv)), started, (*load0, *os.getloadavg()))
    publish(text, write=not args.no_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
