"""ui.warm: the pages' caches are filled in the background for the book and model in use, once."""
from __future__ import annotations

import pytest


@pytest.fixture
def cold(app_state_with_model, app_users, monkeypatch):
    import streamlit as st

    from ui import warm

    monkeypatch.setattr(warm, "_STATE", warm._Warmup())
    monkeypatch.setattr(warm, "FIRST_PAGE_WAIT_S", 0.0)  # no user here: no first page to wait for
    st.cache_resource.clear()
    yield warm
    warm.wait(300)


def test_warm_up_fills_every_cache_the_pages_use_once(cold, monkeypatch):
    from ui import cache, cache_report

    warm = cold
    assert warm.start() is True
    assert warm.start() is False  # the same book and model: not twice
    assert warm.wait(600)
    assert warm._STATE.failed == [] and warm._STATE.done == warm._STATE.total == len(warm._steps())
    assert warm.progress() is None

    # every precomputed object now comes from the cache: the builders are not called again
    def refuse(*args, **kwargs):
        raise AssertionError("computed on a page's visit instead of at warm-up")

    for name in ("bureau_only_scores", "check_monotone", "cutoff_reference"):
        monkeypatch.setattr(cache, name, refuse)
    for name in ("book_strategy_frame", "book_decision_frame"):
        monkeypatch.setattr(cache.workspace, name, refuse)
    monkeypatch.setattr(cache.CutoffCurves, "precompute", refuse)
    from cb_core.model import metrics

    monkeypatch.setattr(metrics, "psi_by_column", refuse)  # the Model report's stability figures
    monkeypatch.setattr(metrics, "psi_table", refuse)
    book, model = cache.book_and_model()
    for get in (cache.strategy_frame, cache.decision_frame, cache.cutoff_curves, cache.decision_curves,
                cache.bureau_points, cache.bureau_points_at_decision, cache.monotone_violations, cache_report.stability,
                cache.watch):
        assert get(book, model) is not None
    assert cache.loans_as_of(book) == str(book.loan_months["month"].astype(str).max())


def test_no_book_no_warm_up(monkeypatch, tmp_path):
    from ui import warm

    monkeypatch.setattr(warm, "_STATE", warm._Warmup())
    monkeypatch.setenv("CB_STATE_DIR", str(tmp_path))
    assert warm.start() is False and warm.progress() is None


def test_keep_warm_warms_each_new_book_and_model_until_stopped(cold, monkeypatch):
    import threading

    warm = cold
    started, landing = [], []
    monkeypatch.setattr(warm, "start", lambda: started.append(1) or False)
    monkeypatch.setattr(warm, "_landing_frame", lambda: landing.append(1))
    stop = threading.Event()
    thread = threading.Thread(target=warm.keep_warm, kwargs={"interval_s": 0.01, "stop": stop})
    thread.start()
    while len(started) < 3:  # it keeps looking for a new book or model
        stop.wait(0.01)
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and landing == [1]  # the landing page's frame started once, first


def test_the_landing_frame_is_built_from_the_engine_alone_and_the_warm_up_finds_it(tmp_path, small_book, trained):
    """At server start the strategy frame is built without the pages' modules (plotting, statistics,
    validation: seconds of imports at 1M merchants' cold start), into the cache file the warm-up reads."""
    import json
    import subprocess
    import sys

    import pandas as pd

    from cb_core import strategy
    from cb_core.config import get_settings, state_dir
    from cb_core.data.sources import save_current
    from cb_core.features import current_snapshot
    from cb_core.workspace import install_model
    from tests.support.app import ROOT

    state = tmp_path / "state"
    save_current(small_book, state)
    model = trained[0]
    install_model(*trained, settings=get_settings(state_dir=str(state)))
    code = ("import sys; from ui import warm; warm._landing_frame(); import json\n"
            "print(json.dumps(sorted(m for m in ('streamlit', 'plotly', 'scipy.stats', 'pandera', 'lightgbm', 'sklearn',"
            " 'sqlalchemy') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "CB_STATE_DIR": str(state)})
    assert done.returncode == 0 and "landing frame not built" not in done.stderr, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    path = state_dir(get_settings(state_dir=str(state))) / "cache" / f"strategy-{small_book.fingerprint}-{model.version}.parquet"
    snap = current_snapshot(small_book)
    pd.testing.assert_frame_equal(pd.read_parquet(path), strategy.strategy_frame(snap, model.score(snap),
                                                                                   small_book.merchants))


def test_the_book_tables_are_read_after_the_first_page_not_before(cold, monkeypatch):
    import time

    from cb_core import workspace
    from ui import cache

    warm = cold
    workspace.book_strategy_frame(workspace.current_book(), workspace.current_model())  # as a server that ran before
    monkeypatch.setattr(warm, "FIRST_PAGE_WAIT_S", 600.0)
    monkeypatch.setattr(warm, "_PAGES_DONE", 0)  # a server just started
    reached, steps = [], warm._steps

    def watched():  # each step notes whether the activity table was still unread when it ended
        def noting(name, step):
            def run(b, m):
                try:
                    return step(b, m)
                finally:
                    reached.append((name, "activity" in b.pending()))
            return run
        return [(name, noting(name, step)) for name, step in steps()]

    monkeypatch.setattr(warm, "_steps", watched)
    assert warm.start() is True
    names = [name for name, _ in warm._steps()]
    gate = names.index(warm.FIRST_PAGE)
    assert names.index("book_tables") > gate and set(names[:gate]) == {"strategy_frame", "charts"}
    # the review's steps between the first page and the tables read none of the activity table
    review = names[gate + 1:names.index("book_tables")]
    assert {"category_bands", "review_lookups", "blocked"} <= set(review)
    deadline = time.monotonic() + 300
    while warm._STATE.done < gate and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    book = cache.current_book()
    assert warm._STATE.done == gate and "activity" in book.pending()  # waiting for a first page
    with warm.user_run():  # a user's first page run, ended
        pass
    assert warm.wait(600) and warm._STATE.failed == []
    assert book.pending() == ()
    assert {name for name, _ in reached} >= set(review)
    assert all(pending for name, pending in reached if name in review)  # the activity still not read by them
