"""One slider move on Cutoff tuning, the whole page: ``python -m bench.slider [--merchants N] [--moves K]``.

Issue #13's goal: after every move of the approve-cutoff slider, every figure of the page describes
the draft on screen (metrics, curves, the comparison with the policy in force, swap sets, thin-file
uplift, the rescue view, segments — expected figures from today's book, observed ones at decision)
and the page's recomputation stays within 1 s at 100,000 merchants.

What is timed is the page a product manager uses, end to end on the server: Streamlit's AppTest
runs ``app.py`` signed in as a product manager on the Cutoff tuning page, against a state folder
holding an N-merchant demo book and a model trained on it; each move sets the slider to a new value
and re-runs the page (the whole script, not only its fragment: an upper bound of what a move
costs). The first visit (which builds what is precomputed once per book and model: snapshot,
scores, today's frame, the score-at-decision frame, curves, bureau-only and platform-only scores)
is timed apart. Browser rendering is not included (see ``python -m bench.app`` for that).
A section is appended to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
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
    parser.add_argument("--moves", type=int, default=10)
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
        first = time.perf_counter() - t
        if app.exception:
            raise RuntimeError(f"the Cutoff tuning page failed: {app.exception}")
        start = int(app.slider(key="cut_approve").value)
        moves, seen = [], set()
        for k in range(args.moves):
            value = start + (15 if k % 2 == 0 else -10) * (k // 2 + 1)  # back and forth, never the same value
            t = time.perf_counter()
            app.slider(key="cut_approve").set_value(value).run()
            moves.append(time.perf_counter() - t)
            if app.exception:
                raise RuntimeError(f"the page failed at cutoff {value}: {app.exception}")
            seen.add(next(m.value for m in app.metric if m.label == "Approval rate"))
    wall, load_end, facts = time.perf_counter() - t0, os.getloadavg(), machine_facts()
    median = statistics.median(moves)
    command = "python -m bench.slider " + " ".join(argv if argv is not None else sys.argv[1:])
    section = "\n".join([
        f"## {started:%Y-%m-%d %H:%M} UTC: Cutoff tuning, one slider move, whole page (issue #13), "
        f"{args.merchants:,} merchants", "",
        f"- Command: `{command.strip()}` (total {wall:,.0f} s wall, of which {build:,.0f} s building the book, "
        "model and database)",
        f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB; Python {facts['python']}; commit "
        f"{facts['commit']}{' with uncommitted changes' if facts['dirty'] else ''}",
        f"- Load average (1 min) at start {load_start[0]:.2f}, at end {load_end[0]:.2f}: other processes share "
        "the 2 cores; every time is an upper bound.",
        "- Measured with Streamlit's AppTest (the page's whole script on the server; no browser rendering).", "",
        "| what | time |", "| --- | ---: |",
        f"| first visit of the page (precomputes once per book and model) | {first:,.2f} s |",
        f"| one slider move, median of {len(moves)} | {median:,.2f} s |",
        f"| one slider move, slowest | {max(moves):,.2f} s |",
        f"| goal: a move within 1 s | {'met' if median <= 1 else 'not met'} (median) |",
        f"| distinct approval rates shown over the moves | {len(seen)} |", ""])
    publish(section, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
