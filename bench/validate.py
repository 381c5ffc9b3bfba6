"""How long validating a book takes: ``python -m bench.validate [--merchants N ...] [--reference REV]``.

For each book size, a demo book (Parquet, with loans) is generated once into ``--work`` (kept
between runs), then measured two ways in each tree (this checkout and, with ``--reference``, a
temporary ``git worktree`` of that commit, run alternately in the same run):

- whole process: ``python -m cb_core validate BOOK`` (wall, CPU seconds, peak RSS of the child);
- in process, step by step (one child per run): importing ``cb_core.data.schema``, reading the
  files, the per-table column checks (``_check_table``), the rules across rows and tables
  (``_cross_problems``), the canonical frames (``_canonical``) and the whole ``_validate`` call again.

With ``--trusted`` the book is also installed in a state folder (``save_current``) and the CLI is
timed on that installed folder (the digest shortcut; a tree without it validates in full).
Standard library only at the top: the engine runs in child processes.
"""
from __future__ import annotations

import argparse
import json
import os
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

_STEPS_CODE = r"""
import json, sys, time
_marks = []
def mark():
    _marks.append((time.perf_counter(), time.process_time()))
mark()
from pathlib import Path
from cb_core.data import schema
from cb_core.data._files import _read_file, _read_files
from cb_core.data.book import TABLES
mark()
folder = Path(sys.argv[1])
files = {t: (str(folder / f"{t}.parquet"), _read_file(folder / f"{t}.parquet"))
         for t in TABLES if (folder / f"{t}.parquet").exists()}
frames = _read_files(files)
mark()
from datetime import date
today = date.today()
checked = {}
for name in TABLES:
    if name in frames:
        found, columns = schema._check_table(name, frames[name], today, 20)
        assert not found, found[:3]
        checked[name] = columns
mark()
assert not schema._cross_problems(checked, today, 20)
mark()
canonical = {name: schema._canonical(name, columns) for name, columns in checked.items()}
mark()
book = schema._validate(frames, today=None, max_rows=20, source=str(folder))
mark()
names = ("import", "read", "column_checks", "cross_checks", "canonical", "validate_total")
out = {n: b[0] - a[0] for n, a, b in zip(names, _marks, _marks[1:])}
out.update({n + "_cpu": b[1] - a[1] for n, a, b in zip(names, _marks, _marks[1:])})
print(json.dumps({**out, "rows": sum(map(len, frames.values()))}))
"""

_INSTALL_CODE = r"""
import sys
from pathlib import Path
from cb_core.data import read_book, save_current
print(save_current(read_book(sys.argv[1]), Path(sys.argv[2]), keep_replaced=0))
"""


def _run(tree: Path, args: list[str]) -> dict:
    """One child ``python ARGS`` in ``tree``: wall, CPU seconds and peak RSS (MiB) from wait4, stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, *args], cwd=tree, stdout=out, stderr=err,
                                env={**os.environ, "PYTHONPATH": str(tree)})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} in {tree} exited {proc.returncode}: {stderr[-1500:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "stdout": stdout}


def _book(work: Path, merchants: int) -> Path:
    book = work / f"book{merchants}"
    if not (book / "monthly_activity.parquet").exists():
        subprocess.run([sys.executable, "-m", "cb_core", "demo-data", "--merchants", str(merchants), "--out",
                        str(book)], cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return book


def measure(sizes: list[int], work: Path, reference: str | None, repeats: int, trusted: bool,
            reference_dir: Path | None = None) -> list[dict]:
    trees = {"this tree": ROOT}
    ref_dir = None
    if reference_dir is not None:  # a checkout of the reference that already exists (kept)
        trees[f"reference {reference or reference_dir.name}"] = reference_dir
    elif reference:
        ref_dir = Path(tempfile.mkdtemp(prefix="cb-validate-ref-")) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(ref_dir), reference], cwd=ROOT, check=True)
        trees[f"reference {reference}"] = ref_dir
    rows: list[dict] = []
    try:
        for merchants in sizes:
            book = _book(work, merchants)
            installed = None
            if trusted:
                state = work / f"state{merchants}"
                installed = Path(_run(ROOT, ["-c", _INSTALL_CODE, str(book), str(state)])["stdout"].strip())
            runs: dict[tuple[str, str], list[dict]] = {}
            for _ in range(repeats):
                for label, tree in trees.items():
                    runs.setdefault(("validate (whole process)", label), []).append(
                        _run(tree, ["-m", "cb_core", "validate", str(book)]))
                    if installed is not None:
                        runs.setdefault(("validate installed book (whole process)", label), []).append(
                            _run(tree, ["-m", "cb_core", "validate", str(installed)]))
                    step = _run(tree, ["-c", _STEPS_CODE, str(book)])
                    step.update(json.loads(step["stdout"].strip().splitlines()[-1]))
                    runs.setdefault(("in-process steps", label), []).append(step)
            for (what, label), rs in runs.items():
                row = {"merchants": merchants, "what": what, "tree": label, "runs": len(rs),
                       **{k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "rss_mb")}}
                if what == "in-process steps":
                    row.update({k + sfx: statistics.median(r[k + sfx] for r in rs) for sfx in ("", "_cpu") for k in
                                ("import", "read", "column_checks", "cross_checks", "canonical", "validate_total")})
                    row["rows"] = rs[0]["rows"]
                else:
                    row["json"] = rs[-1]["stdout"].strip()[:300]
                rows.append(row)
    finally:
        if ref_dir is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(ref_dir)], cwd=ROOT, check=False)
    return rows


def section(rows: list[dict], reference: str | None, command: str, load: tuple, started: datetime) -> str:
    facts = machine_facts()
    lines = [f"## {started:%Y-%m-%d %H:%M} UTC: validating a book (python -m bench.validate)", "",
             f"- Command: `{command}`",
             f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB, CPU `{facts['cpu_model']}`; "
             f"Python {facts['python']}, " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()),
             f"- Commit {facts['commit']}{' with uncommitted changes in the tree' if facts.get('dirty') else ''}"
             + (f"; reference: commit {reference}, run alternately in the same run" if reference else ""),
             f"- Load average (1/5/15 min) at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, at end "
             f"{load[3]:.2f} / {load[4]:.2f} / {load[5]:.2f}; other processes share the 2 cores, so wall times are "
             "upper bounds (CPU seconds are the steadier figure).",
             "- Demo books (Parquet, with loans) from `python -m cb_core demo-data --merchants N`; medians of the runs. "
             "Step columns: wall / CPU seconds of that step in one process.",
             "", "| merchants | what | tree | runs | wall | CPU | peak RSS | import | read | column checks | "
             "cross checks | canonical | validate total |",
             "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def s(r: dict, k: str) -> str:
        return f"{r[k]:.2f} / {r[k + '_cpu']:.2f} s" if k in r else "—"

    for r in rows:
        lines.append(f"| {r['merchants']:,} | {r['what']} | {r['tree']} | {r['runs']} | {r['wall']:.2f} s | "
                     f"{r['cpu']:.2f} s | {r['rss_mb']:,.0f} MiB | " + " | ".join(
                         s(r, k) for k in ("import", "read", "column_checks", "cross_checks", "canonical",
                                           "validate_total")) + " |")
    for merchants in sorted({r["merchants"] for r in rows}):
        ours = {r["what"]: r for r in rows if r["merchants"] == merchants and r["tree"] == "this tree"}
        refs = {r["what"]: r for r in rows if r["merchants"] == merchants and r["tree"] != "this tree"}
        if "in-process steps" in ours and "in-process steps" in refs:
            a, b = ours["in-process steps"], refs["in-process steps"]
            lines.append(f"\n{merchants:,} merchants: validation in process {b['validate_total']:.2f} s -> "
                         f"{a['validate_total']:.2f} s wall ({b['validate_total'] / a['validate_total']:.1f}x), "
                         f"{b['validate_total_cpu']:.2f} s -> {a['validate_total_cpu']:.2f} s CPU "
                         f"({b['validate_total_cpu'] / a['validate_total_cpu']:.1f}x); whole "
                         f"`validate` command {refs['validate (whole process)']['wall']:.2f} s -> "
                         f"{ours['validate (whole process)']['wall']:.2f} s wall.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validate", description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "cb-bench-validate"),
                        help="folder for the generated books (kept, reused by the next run)")
    parser.add_argument("--reference", help="a commit to measure beside this tree (e.g. main before the change)")
    parser.add_argument("--reference-dir", help="an existing checkout of the reference commit, used as it is")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--trusted", action="store_true", help="also time the CLI on the book installed in a state folder")
    parser.add_argument("--no-results", action="store_true", help="print the section; do not append it")
    args = parser.parse_args(argv)
    if max(args.merchants) > 200_000:
        parser.error("at most 200,000 merchants here (the machine is shared)")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started, load0 = datetime.now(timezone.utc), os.getloadavg()
    rows = measure(args.merchants, work, args.reference, args.repeats, args.trusted,
                   Path(args.reference_dir) if args.reference_dir else None)
    text = section(rows, args.reference, shlex.join(getattr(sys, "orig_argv", sys.argv)), (*load0, *os.getloadavg()),
                   started)
    print(json.dumps(rows, ensure_ascii=False, default=str))
    publish(text, write=not args.no_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
