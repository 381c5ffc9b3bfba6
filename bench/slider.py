"""Slider moves on Cutoff tuning, the whole page: ``python -m bench.slider [--merchants N] [--moves K]``.

Issue #13's goal: after every move of a cutoff slider, every figure of the page describes the draft on
screen (metrics, curves, the comparison with the policy in force, swap sets, thin-file uplift, the
rescue view, segments — expected figures from today's book, observed ones at decision) and the page's
recomputation stays within 1 s at 100,000 merchants, for every move, not only the median.

What is timed is the page a product manager uses, end to end on the server: Streamlit's AppTest
runs ``app.py`` signed in as a product manager on the Cutoff tuning page, against a state folder
holding an N-merchant demo book and a model trained on it; the moves alternate between the approve and
the refer slider, back and forth (never the same value twice in a row), and each re-runs the page
(the whole script, not only its fragment: an upper bound of what a move costs). The first visit (which
builds what is precomputed once per book and model: snapshot, scores, today's frame, the
score-at-decision frame, curves, bureau-only and platform-only scores, the prepared TuningBook) is
timed apart. Browser rendering is not included (see ``python -m bench.app`` for that).

Every move is also checked, so the benchmark cannot pass on stale numbers: the figures the page shows
(approval, refer and bad rates, thin-file approval, bureau cutoff, swap-in and swap-out counts, the
published x draft decision matrix, the curves' cutoff line) must equal, as formatted text, an
independent computation of the draft on screen from the strategy frames with the reference engine
functions (``evaluate``, ``thin_file_uplift``, ``aligned_swap_sets``, ``compare_policies``), not with
the page's precomputed TuningBook. A mismatch stops the run with the figure, the draft and both values.
A section is appended to bench/RESULTS.md (every move's time with the load average at the time).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from .results import machine_facts, publish
from .serve import ROOT


def _state(work: Path, merchants: int) -> str:
    """A state folder with a demo book and its model, and a database with one product manager."""
    from cb_core.data.sources import save_current
    from cb_core.model import train_with_report
    from cb_core.store import Store
    from cb_core.synth import generate_book
    from cb_core.workspace import install_model

    book = generate_book(merchants, 24, seed=7, end_month="2026-09")
    save_current(book, work)
    model, report = train_with_report(book)
    install_model(model, report)
    url = f"sqlite:///{work / 'cb.sqlite'}"
    store = Store(url)
    store.add_user("pm", "pm", password="correct horse battery staple 1")
    token = store.start_session("pm")
    store.close()
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slider", description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--moves", type=int, default=24)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)

    saved = {k: os.environ.get(k) for k in ("CB_STATE_DIR", "CB_DATABASE_URL")}
    try:
        return _run(args, argv)
    finally:  # the state folder is gone: nothing after this run may point at it
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def plan(approve: int, refer: int, moves: int) -> list[tuple[str, int]]:
    """``moves`` slider moves alternating approve / refer: back and forth around the start values,
    each a new value for its slider, within the sliders' 300–800."""
    out, step = [], {"cut_approve": 0, "cut_refer": 0}
    for k in range(moves):
        key = "cut_approve" if k % 2 == 0 else "cut_refer"
        j = step[key]
        step[key] += 1
        delta = (15 if j % 2 == 0 else -10) * (j // 2 + 1)
        start = approve if key == "cut_approve" else refer
        out.append((key, int(min(800, max(300, start + (delta if key == "cut_approve" else -delta))))))
    return out


class Reference:
    """The figures of a draft computed independently of the page: the strategy frames built from the
    state folder's book and model, each figure with the reference engine function."""

    def __init__(self, frame, seen, bureau, published) -> None:
        self.frame, self.seen, self.bureau, self.published = frame, seen, bureau, published

    @classmethod
    def from_state(cls) -> Reference:
        """Built from the current state folder and database (CB_STATE_DIR, CB_DATABASE_URL)."""
        from cb_core import workspace
        from cb_core.store import Store, default_url
        from cb_core.strategy import bureau_only_scores, decision_frame, policy_in_force, strategy_frame

        book, model = workspace.current_book(), workspace.current_model()
        frame = strategy_frame(workspace.book_snapshot(book), workspace.book_scores(book, model), book.merchants)
        seen = decision_frame(book, model)
        store = Store(default_url())
        published = policy_in_force(store).policy
        store.close()
        return cls(frame, seen, bureau_only_scores(frame, model.scale, fit_on=seen), published)

    def shown(self, approve: int, refer: int) -> dict[str, str]:
        """Metric label -> the text the page must show for the draft with these cutoffs (English)."""
        from cb_core.i18n import format_count, format_number, format_pct, strings
        from cb_core.strategy import Policy, aligned_swap_sets, evaluate, thin_file_uplift

        draft = Policy.from_dict({**self.published.to_dict(), "approve_cutoff": approve,
                                  "refer_cutoff": min(refer, approve)})
        today, seen = evaluate(self.frame, draft), evaluate(self.seen, draft)
        uplift = thin_file_uplift(self.frame, draft, self.bureau)
        swaps = aligned_swap_sets(self.frame, self.seen, draft, "approval")
        en = {key: strings()[key]["en"] for key in ("approval_rate", "refer_rate", "expected_bad_rate",
                                                     "observed_bad_rate", "thin_approval", "bureau_cutoff",
                                                     "swap_in_count", "swap_out_count")}
        return {en["approval_rate"]: format_pct(today.approval_rate, "en", digits=1),
                en["refer_rate"]: format_pct(today.refer_rate, "en", digits=1),
                en["expected_bad_rate"]: format_pct(today.expected_bad_rate, "en", digits=2),
                en["observed_bad_rate"]: "–" if seen.n_approved_with_outcome == 0 else
                format_pct(seen.observed_bad_rate, "en", digits=2),
                en["thin_approval"]: format_pct(uplift.thin_file_approval_rate, "en", digits=1),
                en["bureau_cutoff"]: format_number(swaps.bureau_cutoff, "en", digits=0),
                en["swap_in_count"]: format_count(int(swaps.summary.loc["swap_in", "n"]), "en"),
                en["swap_out_count"]: format_count(int(swaps.summary.loc["swap_out", "n"]), "en")}

    def matrix(self, approve: int, refer: int) -> list[list[int]]:
        """The published x draft decision counts (rows approve, refer, decline)."""
        from cb_core.strategy import Policy, compare_policies

        draft = Policy.from_dict({**self.published.to_dict(), "approve_cutoff": approve,
                                  "refer_cutoff": min(refer, approve)})
        return compare_policies(self.frame, draft, self.published).matrix.to_numpy().tolist()


def check_page(app, ref: Reference, approve: int, refer: int) -> int:
    """Every checked figure of the page equals the reference for the draft (approve, refer); returns
    how many figures were compared. Raises AssertionError naming the first that differs."""
    from cb_core.i18n import strings

    shown = {m.label: m.value for m in app.metric}
    checked = 0
    for label, want in ref.shown(approve, refer).items():
        got = shown.get(label)
        if got != want:
            raise AssertionError(f"{label!r} shows {got!r}, the draft approve {approve} / refer {refer} gives {want!r}")
        checked += 1
    published = strings()["col_published_decision"]["en"]
    tables = [t.value for t in app.dataframe if published in list(t.value.columns)]
    if len(tables) != 1:
        raise AssertionError(f"expected one decision matrix on the page; found {len(tables)}")
    got = [[int(str(v).replace(",", "")) for v in row[1:]] for row in tables[0].itertuples(index=False)]
    want = ref.matrix(approve, refer)
    if got != want:
        raise AssertionError(f"the decision matrix shows {got}, the draft approve {approve} / refer {refer} gives {want}")
    charts = app.get("plotly_chart")
    lines = {shape.get("x0") for chart in charts for shape in json.loads(chart.proto.spec).get("layout", {}).get("shapes", [])}
    if lines != {approve}:
        raise AssertionError(f"the curves' cutoff line is at {sorted(lines)}, the slider at {approve}")
    return checked + 9 + 1


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(q * len(ordered)) - 1)  # nearest rank
    return ordered[rank]


def _run(args: argparse.Namespace, argv: list[str] | None) -> int:
    started, load_start, t0 = datetime.now(timezone.utc), os.getloadavg(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cb-slider-") as tmp:
        work = Path(tmp)
        os.environ["CB_STATE_DIR"] = str(work)
        os.environ["CB_DATABASE_URL"] = f"sqlite:///{work / 'cb.sqlite'}"
        t = time.perf_counter()
        token = _state(work, args.merchants)
        build = time.perf_counter() - t

        from streamlit.testing.v1 import AppTest

        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
        app.session_state["token"] = token
        app.session_state["lang"] = "en"
        app.run()
        t = time.perf_counter()
        app.switch_page("views/cutoffs.py").run()
        first, load_first = time.perf_counter() - t, os.getloadavg()[0]
        if app.exception:
            raise RuntimeError(f"the Cutoff tuning page failed: {app.exception}")
        t = time.perf_counter()
        ref = Reference.from_state()
        reference_s = time.perf_counter() - t
        approve, refer = int(app.slider(key="cut_approve").value), int(app.slider(key="cut_refer").value)
        checked = check_page(app, ref, approve, refer)
        gc.collect()
        moves: list[tuple[str, int, float, float]] = []
        seen: set[str] = set()
        for key, value in plan(approve, refer, args.moves):
            t = time.perf_counter()
            app.slider(key=key).set_value(value).run()
            moves.append((key, value, time.perf_counter() - t, os.getloadavg()[0]))
            if app.exception:
                raise RuntimeError(f"the page failed at {key} = {value}: {app.exception}")
            approve, refer = int(app.slider(key="cut_approve").value), int(app.slider(key="cut_refer").value)
            if (approve if key == "cut_approve" else refer) != value:
                raise AssertionError(f"{key} shows {approve if key == 'cut_approve' else refer}, set to {value}")
            checked += check_page(app, ref, approve, refer)
            gc.collect()  # the check's own garbage is not charged to the next move
            seen.add(next(m.value for m in app.metric if m.label == "Approval rate"))
    wall, load_end, facts = time.perf_counter() - t0, os.getloadavg(), machine_facts()
    times = [m[2] for m in moves]
    median, p95, slowest = statistics.median(times), _percentile(times, 0.95), max(times)
    over = [m for m in moves if m[2] > 1]
    command = "python -m bench.slider " + " ".join(argv if argv is not None else sys.argv[1:])
    section = "\n".join([
        f"## {started:%Y-%m-%d %H:%M} UTC: Cutoff tuning, every slider move, whole page (issue #13), "
        f"{args.merchants:,} merchants", "",
        f"- Command: `{command.strip()}` (total {wall:,.0f} s wall, of which {build:,.0f} s building the book, "
        f"model and database and {reference_s:,.0f} s the independent reference frames)",
        f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB; Python {facts['python']}; commit "
        f"{facts['commit']}{' with uncommitted changes' if facts['dirty'] else ''}",
        f"- Load average (1 min) at start {load_start[0]:.2f}, after the first visit {load_first:.2f}, at end "
        f"{load_end[0]:.2f}: other processes share the 2 cores; every time is an upper bound.",
        "- Measured with Streamlit's AppTest (the page's whole script on the server; no browser rendering).",
        f"- Checked: after the first visit and after every move, {checked:,} figures in all equal an independent "
        "computation of the draft on screen (metrics, thin-file approval, bureau cutoff, swap counts, the decision "
        "matrix, the curves' cutoff line).", "",
        "| what | time |", "| --- | ---: |",
        f"| first visit of the page (precomputes once per book and model) | {first:,.2f} s |",
        f"| one slider move, fastest of {len(times)} | {min(times):,.2f} s |",
        f"| one slider move, median of {len(times)} | {median:,.2f} s |",
        f"| one slider move, p95 of {len(times)} | {p95:,.2f} s |",
        f"| one slider move, slowest of {len(times)} | {slowest:,.2f} s |",
        f"| goal: every move within 1 s | {'met' if not over else f'not met ({len(over)} of {len(times)} over 1 s)'} |",
        f"| distinct approval rates shown over the moves | {len(seen)} |", "",
        "Every move (slider, value, time, load average 1 min after it): " +
        ", ".join(f"{'approve' if k == 'cut_approve' else 'refer'} {v} {s:.2f} s ({load:.1f})"
                  for k, v, s, load in moves), ""])
    publish(section, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
