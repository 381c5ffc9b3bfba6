"""Many users at once: officers recording decisions and product managers publishing policies in real
browsers against ``streamlit run app.py`` on 127.0.0.1; page times, exactly-once checks, server memory.

    .venv/bin/python -m bench.load [--officers 20] [--pms 2] [--decisions-per-officer 3]
        [--publish-rounds 3] [--rss-loads 500] [--database sqlite|URL] [--no-results]

(``bench/bench_load.py`` runs the same.)

It builds its own state folder (a seeded demo book and a model trained on it) in a temporary folder,
creates the users, starts the server, and drives one headless Chromium (Playwright's async API) with
one browser context per user. ``tests/load/test_load.py`` runs the same driver (the names below) with
small counts and asserts the exactly-once checks; bench/README.md explains the figures.

Page time: the wall time from the user's action (``goto``, Enter, a click, key presses) until (1) the
server has reported the end of a script run that started after the action (its ``script_finished``
message on the page's websocket; a restart by ``st.rerun`` does not count), (2) the element that shows
the action's result is visible outside stale element containers, and (3) the app root's
``data-test-script-state`` is ``notRunning`` (Streamlit's running indicator is gone).

Modules: :mod:`~bench.load.records` (what a run records), :mod:`~bench.load.state` (state folder,
users, server), :mod:`~bench.load.tab` (one user's tab), :mod:`~bench.load.sessions`,
:mod:`~bench.load.verify` (exactly once), :mod:`~bench.load.report`, :mod:`~bench.load.cli`.
"""
from __future__ import annotations

from .sessions import assign_merchants, rss_run, run_load, warm_up
from .state import build_state, create_users, database_url, install_state, load_server, pick_merchants
from .verify import verify

__all__ = ["assign_merchants", "build_state", "create_users", "database_url", "install_state", "load_server",
           "pick_merchants", "rss_run", "run_load", "verify", "warm_up"]
