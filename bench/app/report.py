"""The app benchmarks' section of ``bench/RESULTS.md``: the machine (bench/results.py), the records, and
the goal lines of issue #7."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..results import chromium_version, machine_facts
from .browser import POLL_MS

#: Library versions the section reports.
PACKAGES = ("numpy", "pandas", "lightgbm", "streamlit", "playwright")


def _fmt(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s * 1e3:.0f} ms" if s < 1 else f"{s:,.2f} s"


def results_section(records: list[dict[str, Any]], command: str, load_start: tuple, load_end: tuple,
                    started: datetime, wall: float) -> str:
    """The Markdown section of one run: machine facts, command, load, the records and the goal lines."""
    f = machine_facts(PACKAGES)
    v = f["versions"]
    sizes = sorted({r["merchants"] for r in records})
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC: app benchmarks (python -m bench.app), {', '.join(f'{n:,}' for n in sizes)} merchants",
        "",
        f"- Command: `{command}` (total {wall:,.0f} s wall)",
        f"- Machine: nproc {f['nproc']}, {f['mem_total_gib']} GiB total memory, CPU `{f['cpu_model']}`; Python "
        f"{f['python']}, numpy {v['numpy']}, pandas {v['pandas']}, lightgbm {v['lightgbm']}, streamlit "
        f"{v['streamlit']}, playwright {v['playwright']}, Chromium `{chromium_version()}`",
        f"- Commit {f['commit']}{' with uncommitted changes in the tree' if f['dirty'] else ''}",
        f"- Load average (1/5/15 min) at start {' / '.join(f'{x:.2f}' for x in load_start)}, at end "
        f"{' / '.join(f'{x:.2f}' for x in load_end)}. Other engineers' processes share these 2 cores: every time "
        "below is an upper bound.",
        "- Definitions: bench/README.md, \"App benchmarks\". Browser times are measured from the action to the moment a "
        f"predicate polled in the page every {POLL_MS} ms first holds (the content is shown and Streamlit's script "
        "state is `notRunning` with no stale element). Peak RSS: the server process's VmHWM (MiB); for "
        "explainerdashboard, its process's VmHWM with the mark reset after loading its inputs.",
        "",
        "| step | merchants | time | peak RSS MiB | load 1m | notes |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in records:
        load = "—" if r.get("load_1m_start") is None else f"{r['load_1m_start']:.2f} -> {r['load_1m_end']:.2f}"
        status = "" if r["status"] == "ok" else f"**{r['status']}**: "
        peak = "—" if r.get("peak_rss_mb") is None else f"{r['peak_rss_mb']:,.0f}"
        notes = (status + str(r.get("notes", ""))).replace("|", "\\|")
        lines.append(f"| {r['step']} | {r['merchants']:,} | {_fmt(r.get('seconds'))} | {peak} | {load} | {notes} |")
    summary = _summary(records)
    if summary:
        lines += ["", *summary]
    return "\n".join(lines) + "\n"


def _summary(records: list[dict[str, Any]]) -> list[str]:
    """The goal lines of issue #7, from the records of this run only."""
    out = []
    by = {(r["step"], r["merchants"]): r for r in records}
    for r in records:
        if r["step"] == "explainerdashboard_build" and r["status"] == "ok":
            ours = by.get(("app_ready_cold", r["merchants"]))
            if ours and ours["seconds"] and r.get("rows") == r["merchants"]:
                out.append(f"- explainerdashboard build / our cold app ready at {r['merchants']:,} merchants: "
                           f"{r['seconds']:,.1f} s / {ours['seconds']:,.1f} s = **{r['seconds'] / ours['seconds']:.1f}x** "
                           "(goal: at least 30x), measured side by side in this run"
                           + (f"; in CPU seconds (robust to the load): {r['cpu_seconds']:,.0f} s / "
                              f"{ours['server_cpu_seconds']:,.1f} s = {r['cpu_seconds'] / ours['server_cpu_seconds']:.1f}x "
                              "(ours: the server process from its launch, imports included)"
                              if ours.get("server_cpu_seconds") else "")
                           + f". Load 1m: ours {ours['load_1m_start']:.1f} -> {ours['load_1m_end']:.1f}, explainerdashboard "
                             f"{r['load_1m_start']:.1f} -> {r['load_1m_end']:.1f}; the wall ratio is only fair when these "
                             "are alike, the CPU ratio is the one to quote otherwise.")
    for r in records:
        if r["step"] in ("review_warm_visit", "review_warm_visit_idle"):
            held = r["max_seconds"] < 1
            when = " (after the server's warm-up ended)" if r["step"].endswith("_idle") else ""
            out.append(f"- Merchant review at {r['merchants']:,} merchants, warm{when}: median {r['seconds']:.3f} s, p95 "
                       f"{r['p95_seconds']:.3f} s, max {r['max_seconds']:.3f} s over {r['visits']} merchants "
                       f"(goal under 1 s: {'held by every visit' if held else 'not held by every visit'}).")
    for r in records:
        if r["step"] == "pages_summary" and r.get("first_seconds"):
            first, warm = r["first_seconds"], r.get("warm_median_seconds") or {}
            over_first = {k: v for k, v in first.items() if v > 3}
            over_warm = {k: v for k, v in warm.items() if v > 1}
            out.append(f"- Every page at {r['merchants']:,} merchants: first visits "
                       + ", ".join(f"{k} {v:.2f} s" for k, v in first.items())
                       + f" (goal ≤ 3 s: {'held by every page' if not over_first else 'not held by ' + ', '.join(over_first)})"
                       + "; warm medians " + ", ".join(f"{k} {v:.2f} s" for k, v in warm.items())
                       + f" (goal ≤ 1 s: {'held by every page' if not over_warm else 'not held by ' + ', '.join(over_warm)}).")
    return out


__all__ = ["PACKAGES", "results_section"]
