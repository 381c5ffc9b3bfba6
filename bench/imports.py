"""What each command imports, and what that costs: ``python -m bench.imports [--reference REV]``.

For every command a user runs from the command line (``--help``, ``validate``, ``score``, ``users
list``), the whole process ``python -X importtime -m cb_core ...`` is run a few times on a small demo
book and model, and this records its wall and CPU seconds (median), the import time Python itself
reports (the sum of the top-level imports' cumulative microseconds), and which heavy libraries it
loaded. With ``--reference REV`` the same commands run, in the same run and alternately, on a
checkout of that commit (a temporary ``git worktree``): the reference the figures are compared with.

Standard library only at the top: the engine is run in child processes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
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

#: Libraries whose import alone costs a noticeable part of a second (or pulls in others that do).
HEAVY: tuple[str, ...] = ("lightgbm", "sklearn", "scipy", "numba", "shap", "pandera", "pyarrow", "sqlalchemy",
                          "alembic", "argon2", "dask", "distributed", "plotly", "streamlit")
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _commands(work: Path) -> dict[str, list[str]]:
    book, model = work / "book", work / "model"
    return {"--help": ["--help"], "validate": ["validate", str(book)],
            "score": ["score", "--model", str(model), "--data", str(book), "--out", str(work / "scores.parquet")],
            "users list": ["users", "--database-url", f"sqlite:///{work / 'cb.sqlite'}", "list"]}


def _run_once(tree: Path, args: list[str]) -> dict:
    """One child process: wall and CPU seconds, Python's import time and the heavy libraries loaded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cb_core", *args], cwd=tree,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} in {tree} exited {done.returncode}: {done.stderr[-800:]}")
    top_level_us, loaded = 0, set()
    for line in done.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            name = m.group(4)
            loaded.add(name.split(".")[0])
            if len(m.group(3)) == 1:  # one space of indent: imported by the program itself
                top_level_us += int(m.group(2))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "import_s": top_level_us / 1e6, "heavy": sorted(set(HEAVY) & loaded)}


def _prepare(work: Path) -> None:
    """A 2,000-merchant demo book and a model trained on it (with this checkout's engine)."""
    py = [sys.executable, "-m", "cb_core"]
    subprocess.run([*py, "demo-data", "--merchants", "2000", "--months", "24", "--seed", "3", "--out",
                    str(work / "book")], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*py, "train", "--data", str(work / "book"), "--out", str(work / "model")], cwd=ROOT, check=True,
                   capture_output=True)


def measure(reference: str | None, repeats: int) -> tuple[list[dict], str | None]:
    """Rows per (command, tree): medians over ``repeats`` runs, alternating trees run by run."""
    with tempfile.TemporaryDirectory(prefix="cb-imports-") as tmp:
        work = Path(tmp)
        _prepare(work)
        trees = {"this tree": ROOT}
        ref_dir = None
        if reference:
            ref_dir = work / "reference"
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(ref_dir), reference], cwd=ROOT, check=True)
            trees[f"reference {reference}"] = ref_dir
        try:
            runs: dict[tuple[str, str], list[dict]] = {}
            for _ in range(repeats):
                for command, args in _commands(work).items():
                    for label, tree in trees.items():
                        runs.setdefault((command, label), []).append(_run_once(tree, args))
        finally:
            if ref_dir is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(ref_dir)], cwd=ROOT, check=False)
    rows = [{"command": command, "tree": label, "runs": len(rs),
             **{k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "import_s")},
             "heavy": rs[0]["heavy"]} for (command, label), rs in runs.items()]
    return rows, reference


def section(rows: list[dict], reference: str | None, command: str, load: tuple, started: datetime) -> str:
    facts = machine_facts()
    lines = [f"## {started:%Y-%m-%d %H:%M} UTC: imports per command (python -m bench.imports)", "",
             f"- Command: `{command}`",
             f"- Machine: nproc {facts['nproc']}, CPU `{facts['cpu_model']}`; Python {facts['python']}",
             f"- Commit {facts['commit']}{' with uncommitted changes in the tree' if facts.get('dirty') else ''}"
             + (f"; reference: commit {reference}, run alternately in the same run" if reference else ""),
             f"- Load average (1/5/15 min) at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, at end "
             f"{load[3]:.2f} / {load[4]:.2f} / {load[5]:.2f}; other processes share the 2 cores, so wall times are "
             "upper bounds; CPU seconds and the libraries loaded are the figures to compare.",
             "- Each row: median of the runs of `python -X importtime -m cb_core <command>` on a 2,000-merchant "
             "demo book and its model; `import` is Python's own import-time report (top-level imports, cumulative).",
             "", "| command | tree | runs | wall | CPU | import | heavy libraries loaded |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| `{r['command']}` | {r['tree']} | {r['runs']} | {r['wall']:.2f} s | {r['cpu']:.2f} s | "
                     f"{r['import_s']:.2f} s | {', '.join(r['heavy']) or '—'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", help="a commit to measure beside this tree (e.g. the one before a change)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-results", action="store_true", help="print the section; do not append it")
    args = parser.parse_args(argv)
    started, load0 = datetime.now(timezone.utc), os.getloadavg()
    rows, reference = measure(args.reference, args.repeats)
    text = section(rows, reference, shlex.join(getattr(sys, "orig_argv", sys.argv)), (*load0, *os.getloadavg()),
                   started)
    print(json.dumps(rows, ensure_ascii=False))
    publish(text, write=not args.no_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
