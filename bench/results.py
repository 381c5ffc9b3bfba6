"""The machine a run measured on, and the runner's section of ``bench/RESULTS.md``.

:func:`machine_facts` serves every benchmark (``python -m bench``, :mod:`bench.app`, :mod:`bench.load`);
:func:`append_results` is how each adds its section. Standard library only.
"""
from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .serve import CHROMIUM, ROOT

#: Library versions the engine-step sections report.
ENGINE_PACKAGES: tuple[str, ...] = ("numpy", "pandas", "pyarrow", "lightgbm")


def package_version(name: str) -> str:
    """The installed version of distribution ``name``, or ``absent``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def chromium_version(path: str = CHROMIUM) -> str:
    """What ``chromium --version`` prints, or ``unknown``."""
    try:
        return subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_facts(packages: tuple[str, ...] = ENGINE_PACKAGES) -> dict[str, Any]:
    """nproc, total memory (GiB), CPU model, Python, the versions of ``packages``, the commit and
    whether the tree has uncommitted changes."""
    def read(path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    mem = [line.split()[1] for line in read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")]
    cpu = [line.split(":", 1)[1].strip() for line in read("/proc/cpuinfo").splitlines() if line.startswith("model name")]

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "mem_total_gib": round(int(mem[0]) / 2**20, 1) if mem else None,
            "cpu_model": cpu[0] if cpu else platform.processor() or "unknown",
            "python": platform.python_version(), "versions": {p: package_version(p) for p in packages},
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
        "# Benchmark results\n\nWritten by `python -m bench` (see bench/README.md). One section per "
        "run, newest last; earlier sections are kept as they were.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    os.replace(tmp, path)


def publish(section: str, write: bool = True) -> None:
    """Print a run's section and, unless ``write`` is false, append it to ``bench/RESULTS.md``."""
    print(section)
    if write:
        append_results(ROOT / "bench" / "RESULTS.md", section)


__all__ = ["ENGINE_PACKAGES", "append_results", "publish", "chromium_version", "machine_facts", "package_version",
           "results_section"]
