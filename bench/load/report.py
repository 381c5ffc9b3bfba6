"""The load run's section of ``bench/RESULTS.md``: machine (bench/results.py), page-time tables,
exactly-once counts, CPU and memory."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .records import LoadRun, SessionLog, Timing
from .verify import Verification

#: Library versions the section reports.
PACKAGES = ("streamlit", "playwright")


def slope_per_100(samples: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MiB) per 100 loads over the last half of the samples."""
    half = [(x, y) for x, y in samples if x >= samples[-1][0] / 2]
    if len(half) < 2:
        return float("nan")
    import numpy as np

    x, y = np.array(half, dtype=float).T
    return float(np.polyfit(x, y, 1)[0] * 100)


def timing_table(timings: list[Timing]) -> str:
    """p50 / p95 / max seconds per kind of action (numpy's linear percentiles)."""
    import numpy as np

    kinds: dict[str, list[float]] = {}
    for t in timings:
        kinds.setdefault(t.kind, []).append(t.seconds)
    rows = ["| action | n | p50 s | p95 s | max s |", "| --- | ---: | ---: | ---: | ---: |"]
    for kind, values in kinds.items():
        v = np.array(values)
        rows.append(f"| {kind} | {len(v)} | {np.percentile(v, 50):.2f} | {np.percentile(v, 95):.2f} | {v.max():.2f} |")
    return "\n".join(rows)


def load_avg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Outcome:
    """Everything one bench run measured, for the report."""

    run: LoadRun
    check: Verification
    warm: SessionLog
    rss_before: float
    rss_after: float
    samples: list[tuple[int, float]] = field(default_factory=list)
    rss_log: SessionLog | None = None
    server_cpu: float = float("nan")  # CPU seconds during the concurrent phase
    browser_cpu: float = float("nan")

    @property
    def problems(self) -> list[str]:
        others = [self.warm] + ([self.rss_log] if self.rss_log else [])
        return self.run.problems + [f"{s.user}: {p}" for s in others for p in s.problems] + self.check.problems


def report_section(args: argparse.Namespace, info: dict[str, Any], loads: tuple[str, str], backend: str,
                   pool: int, out: Outcome) -> str:
    """The Markdown section of one run. ``info``: :func:`bench.results.machine_facts` of :data:`PACKAGES`
    and ``chromium`` (its version)."""
    v = info["versions"]
    c, run = out.check.counts, out.run
    problems = out.problems
    lines = [
        f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: many users (issue 8), {backend}",
        "",
        f"- Command: `{shlex.join(getattr(sys, 'orig_argv', sys.argv))}`",
        f"- Machine: nproc {info['nproc']}, {info['mem_total_gib']} GiB total memory, CPU `{info['cpu_model']}`; "
        f"Python {info['python']}, streamlit {v['streamlit']}, playwright {v['playwright']}, {info['chromium']}",
        f"- Commit {info['commit']}{' with uncommitted changes in the tree' if info['dirty'] else ''}",
        f"- Load average (1/5/15 min) at start {loads[0]}, at end {loads[1]}. The server, Chromium and the "
        "driver share these cores with each other and with other engineers' processes: every time is an upper bound.",
        f"- Book: {args.merchants:,} merchants x {args.months} months (seed {args.seed}). {args.officers} officers "
        f"({args.decisions_per_officer} merchants each, drawn from a shared pool of {pool}) and {args.pms} product "
        f"managers ({args.publish_rounds} publish rounds) at once, one headless Chromium, one browser context each; "
        f"the concurrent phase took {run.seconds:.0f} s wall.",
        "- Page time: from the action (goto, Enter, click, key presses) until a script run started after it has "
        "finished, the element showing the result is visible outside stale containers, and the app root's "
        "`data-test-script-state` is `notRunning` (bench/README.md). Percentiles are numpy's (linear).",
        "",
        "Warm-up, one session alone right after the server started (builds the shared caches):",
        "",
        timing_table(out.warm.timings),
        "",
        "All sessions at once:",
        "",
        timing_table(run.timings),
        "",
        f"Exactly once (read back from the store): {c['decisions_attempted']} decisions submitted, "
        f"{c['decisions_saved']} saved and shown with their id, {c['decision_conflicts']} refused with the "
        f"conflict message; {c['decisions_stored']} stored, {c['decision_audit_entries']} `decision.save` audit "
        f"entries ({c['superseding_decisions']} decisions supersede an earlier one; merchants with more than one "
        f"current decision: {c['merchants_with_forked_chains']}). Publishing: {c['publish_presses']} presses, "
        f"{c['publish_wins']} wins, {c['publish_conflicts']} conflict messages; {c['versions_stored']} versions "
        f"stored, {c['publish_audit_entries']} `policy.publish` and {c['draft_audit_entries']} `policy.draft` audit "
        f"entries; {c['sign_ins']} sign-ins, {c['login_audit_entries']} `login` audit entries. Problems: "
        + (f"none." if not problems else f"{len(problems)}: " + "; ".join(problems[:10])),
        "",
        f"CPU during the concurrent phase ({run.seconds:.0f} s wall): server {out.server_cpu:.0f} s, Chromium + "
        f"Playwright + driver {out.browser_cpu:.0f} s. Server RSS (process and children): {out.rss_before:.0f} MiB "
        f"after the warm-up, {out.rss_after:.0f} MiB after the concurrent phase.",
        "",
    ]
    if out.samples:
        values = [v for _, v in out.samples]
        lines += [
            f"Memory: then one admin session loaded {out.samples[-1][0]} pages (sidebar navigation Portfolio, "
            f"Merchant review, a merchant searched, Decisions, Model report, Cutoff tuning, in turn; every "
            f"{args.reload_every} loads a browser reload, i.e. a new server session signed in by the cookie), server "
            f"RSS sampled every {args.rss_every} loads: "
            f"start {values[0]:.0f} MiB, end {values[-1]:.0f} MiB, max {max(values):.0f} MiB; slope over the last "
            f"half {slope_per_100(out.samples):+.1f} MiB per 100 loads (least squares).",
            "",
            "| loads | " + " | ".join(str(x) for x, _ in out.samples) + " |",
            "| --- | " + " | ".join("---:" for _ in out.samples) + " |",
            "| RSS MiB | " + " | ".join(f"{v:.0f}" for _, v in out.samples) + " |",
            "",
            "Page times of that session alone:",
            "",
            timing_table(out.rss_log.timings if out.rss_log else []),
            "",
        ]
    return "\n".join(lines) + "\n"


__all__ = ["PACKAGES", "Outcome", "load_avg", "report_section", "slope_per_100", "timing_table"]
