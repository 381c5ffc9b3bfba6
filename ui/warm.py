"""Warm what the pages need, once per book and model, in the background — not on a user's click.

The first visit of a page used to pay for everything precomputed once per book and model (reading the
book, the snapshot, every merchant's score, today's and the score-at-decision strategy frames, cutoff
curves, the bureau-only and platform-only scores, the reason codes' reference, the category bands,
the monotone check, the model report, the exact explainer with its numba import): 9–50 s for whoever
came first. :func:`start` computes them in a daemon thread into the same process-wide caches
(:mod:`ui.cache`), so the pages find them ready. ``server.py`` runs :func:`keep_warm` for the life of
the server: it warms the book and model in use at start, after the first-start build and whenever
another book or model is installed. The installed book's tables are read on first use
(:class:`cb_core.data.PendingTable`): the warm-up first fills what the landing page needs (today's
strategy frame, from the cache folder when it is there), then waits for a user's first page (at most
:data:`FIRST_PAGE_WAIT_S`) before it reads the rest of the book (18 million activity rows at 1,000,000
merchants) and warms the other pages. A user who arrives early waits only for what is still missing
(each cache computes a key once; a second caller waits for the first), and :func:`progress` lets
the sidebar say how far the warm-up is. Only a real server warms: an AppTest (which never imports
``server.py``) computes on its visits, as it always did. ``CB_WARM_UP=0`` in the server's environment
turns the warm-up off (:func:`enabled`): the browser-test servers (tests/conftest.py) use it, so the
warm-up does not compete with the tests for the CPU; the default, for users, is on.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

log = logging.getLogger(__name__)


@dataclass
class _Warmup:
    key: tuple[str, str] | None = None
    done: int = 0
    total: int = 0
    thread: threading.Thread | None = None
    failed: list[str] = field(default_factory=list)
    started: float = 0.0  # time.monotonic() at its start


_STATE = _Warmup()
_LOCK = threading.Lock()

#: The environment variable that turns the warm-up off ("0", "false", "no", "off"); on when unset.
ENV = "CB_WARM_UP"


def enabled(environ=None) -> bool:
    """Whether the server warms the caches in the background (``CB_WARM_UP``; on unless it says off)."""
    value = (os.environ if environ is None else environ).get(ENV, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def _charts(book, model) -> None:
    """Plotly builds its figure and trace classes on first use (0.5 s and more, once per process): a
    figure of each kind the pages draw, built once here, so no first visit pays for it."""
    import plotly.graph_objects as go

    from ui import cache
    from ui.charts import grade_bar_figure, score_histogram_figure

    frame = cache.strategy_frame(book, model)
    score_histogram_figure(frame["score"], 600, 550, "score", "count").to_plotly_json()
    grade_bar_figure(frame["grade"], "grade", "count").to_plotly_json()
    fig = go.Figure([go.Bar(x=[1], y=[1]), go.Scatter(x=[1], y=[1], yaxis="y2"), go.Scattergl(x=[1], y=[1]),
                     go.Waterfall(x=[1], y=[1], orientation="v"), go.Heatmap(z=[[1]]), go.Histogram(x=[1])])
    fig.update_layout(title="x", xaxis=dict(title="x", type="category"), yaxis=dict(title="y", tickvals=[0, 1]),
                      yaxis2=dict(overlaying="y", side="right"), legend=dict(orientation="h"), barmode="stack")
    fig.add_vline(x=1)
    fig.add_hrect(y0=0, y1=1)
    fig.to_plotly_json()


def _partner_pages(book, model) -> None:
    """Partner view's first partner (its pool, booked book, sample) and Book performance's default views."""
    from cb_core.reports import partners
    from cb_core.strategy import policy_in_force
    from ui import cache
    from ui.brokerage import catalog_in_use, partner_pool_for

    if book.loans is not None and book.loan_months is not None:
        cache.loan_views(book)
        cache.book_vintages(book, "dpd_90", None)
    _, products = catalog_in_use()
    table = partners(products)
    if len(table):
        partner = str(table["partner"].iloc[0])
        partner_pool_for(book, model, partner, policy_in_force(cache.store()).policy.lgd)
        cache.partner_book(book, partner, "dpd_30")


#: The step that waits for the first page to be shown (:func:`_first_page`).
FIRST_PAGE = "first_page"
#: Seconds the warm-up waits, after the landing page's own caches, for a user's first page run to end
#: before it reads the book's large tables; a server nobody visits goes on after this.
FIRST_PAGE_WAIT_S = 30.0


def _first_page(book, model, poll_s: float = 0.05) -> None:
    """Wait until a user's page run has ended (at most :data:`FIRST_PAGE_WAIT_S` since the warm-up
    started): the landing page, whose caches are warm by then, is shown before the warm-up takes the
    2 cores to read the book's large tables (18 million activity rows at 1,000,000 merchants) and
    build what the other pages need. A page that needs a table first reads it itself (the warm-up then
    finds it read)."""
    while _PAGES_DONE == 0 and time.monotonic() - _STATE.started < FIRST_PAGE_WAIT_S:
        time.sleep(poll_s)


def _steps() -> list[tuple[str, Callable[[object, object], object]]]:
    """The warm-up's steps, in the order users need them: the landing page (Portfolio) first; then,
    once a first page is shown, Merchant review (which reads no whole activity table: its merchant's rows and
    the category bands' sample come from the installed file), the book's tables not read yet, the review's
    merchant -> rows index over the table read, Cutoff tuning, the Model report, the Watch-list, Partner view
    and Book performance."""
    from cb_core.config import get_settings
    from cb_core.explain import explain_merchant
    from cb_core.strategy import policy_in_force
    from ui import cache, cache_report

    def reference(book, model):
        return cache.reference(book, model, policy_in_force(cache.store()), get_settings().reason_band)

    def explainer(book, model):  # builds the exact explainer (and loads numba) on one explanation
        snap = cache.snapshot(book)
        return explain_merchant(model, snap, snap.index[0], reference(book, model))

    def review_lookups(book, model):  # the search index and the merchant -> activity rows index
        from cb_core.explain import merchant_trends

        cache.find_merchants(book, "0")
        return merchant_trends(book, str(book.merchants["merchant_id"].iloc[0]))

    def blocked(book, model):  # the review's offers: merchants with an overdue loan, or frozen
        return cache.blocked(book, tuple(cache.store().frozen_merchants()))

    def watch(book, model):
        if book.loans is None or book.loan_months is None:
            return None
        cache.loans_as_of(book)
        blocked(book, model)
        return cache.watch(book, model)

    return [("strategy_frame", cache.strategy_frame), ("charts", _charts),
            (FIRST_PAGE, _first_page),
            ("snapshot", lambda b, m: cache.snapshot(b)), ("scores", cache.scores),
            ("known_merchants", lambda b, m: cache.known_merchants()),
            ("reference", reference), ("explainer", explainer), ("category_bands", lambda b, m: cache.category_bands(b)),
            ("review_lookups", review_lookups), ("blocked", blocked),
            ("book_tables", lambda b, m: b.load_all()),
            ("review_index", review_lookups),
            ("cutoff_curves", cache.cutoff_curves), ("platform_only_scores", cache.platform_only_scores),
            ("decision_frame", cache.decision_frame), ("decision_curves", cache.decision_curves),
            ("tuning_book", cache.tuning_book),
            ("bureau_points", cache.bureau_points), ("bureau_points_at_decision", cache.bureau_points_at_decision),
            ("monotone", cache.monotone_violations),
            ("model_report", lambda b, m: cache.model_report(m)), ("sample_points", cache_report.sample_points),
            ("stability", cache_report.stability), ("watchlist", watch), ("partner_and_book_pages", _partner_pages)]


_RUNS = 0  # users' page runs going on now (app.py: user_run)
_PAGES_DONE = 0  # users' page runs ended since the server started


@contextmanager
def user_run() -> Iterator[None]:
    """Around a user's page run (app.py): while one runs, the warm-up starts no new step, so the two
    do not share the GIL and the 2 cores; a step already under way finishes (a page waiting for its
    cache gets it), and a page needing a later step computes it itself."""
    global _RUNS, _PAGES_DONE
    with _LOCK:
        _RUNS += 1
    try:
        yield
    finally:
        with _LOCK:
            _RUNS -= 1
            _PAGES_DONE += 1


def _yield_to_users(max_wait_s: float = 10.0, poll_s: float = 0.05) -> None:
    """Wait (at most ``max_wait_s``: the warm-up is never starved) while a user's page run goes on."""
    deadline = time.monotonic() + max_wait_s
    while _RUNS > 0 and time.monotonic() < deadline:
        time.sleep(poll_s)


def _run(key: tuple[str, str], book, model) -> None:
    steps = _steps()
    with _LOCK:
        _STATE.total = len(steps)
    for name, step in steps:
        _yield_to_users()
        began = time.perf_counter()
        try:
            step(book, model)
        except Exception:  # a page computes it again and says what is wrong; the warm-up goes on
            log.exception("warm-up step %s failed", name)
            _STATE.failed.append(name)
        log.info("warm-up step %s: %.2f s", name, time.perf_counter() - began)
        with _LOCK:
            _STATE.done += 1
    log.info("warm-up of book %s, model %s done (%d steps, %d failed)", key[0], key[1], len(steps),
             len(_STATE.failed))


def start() -> bool:
    """Warm the caches of the book and model in use in a background thread; True when a warm-up was
    started (False without a book and model, or when these were already warmed or are warming)."""
    from ui import cache

    try:
        book, model = cache.book_and_model()
    except Exception:  # an unusable model: the pages say so; nothing to warm
        log.exception("warm-up: no usable book and model")
        return False
    if book is None or model is None:
        return False
    key = (book.fingerprint, model.version)
    with _LOCK:
        if _STATE.key == key:
            return False
        _STATE.key, _STATE.done, _STATE.total, _STATE.failed = key, 0, 0, []
        _STATE.started = time.monotonic()
        _STATE.thread = threading.Thread(target=_run, args=(key, book, model), name="cb-warm-up", daemon=True)
        _STATE.thread.start()
    return True


def _landing_frame() -> None:
    """Today's strategy frame of the book and model in use, built from the engine alone (its cache file,
    and the snapshot's and scores', when they are missing): started with the server, it does not wait
    for the pages' modules (plotting, statistics, the store: 2-4 s of imports) that the warm-up imports
    first; the warm-up's own step then finds it built, or waits for it (``cb_core.workspace`` builds a
    cache file once per process). At 1,000,000 merchants with no cache, this is most of the cold start."""
    try:
        from cb_core import workspace

        book, model = workspace.current_book(), workspace.current_model()
        if book is not None and model is not None:
            workspace.prepare_strategy_frame(book, model)  # reads nothing when it is there already
    except Exception:  # the warm-up and the pages compute it again and say what is wrong
        log.exception("landing frame not built ahead")


def keep_warm(interval_s: float = 2.0, stop: threading.Event | None = None) -> None:
    """Warm the book and model in use whenever they change (polls the state folder's pointers every
    ``interval_s``; a cheap read of two small files); runs until ``stop`` is set. The landing page's
    frame is started first, in a thread of its own (:func:`_landing_frame`)."""
    stop = stop or threading.Event()
    threading.Thread(target=_landing_frame, name="cb-landing-frame", daemon=True).start()
    while not stop.is_set():
        try:
            start()
        except Exception:  # never end the loop: the next change is warmed again
            log.exception("warm-up not started")
        stop.wait(interval_s)


def progress() -> tuple[int, int] | None:
    """(steps done, steps) while a warm-up runs; None when none runs."""
    with _LOCK:
        if _STATE.thread is None or not _STATE.thread.is_alive():
            return None
        return _STATE.done, max(_STATE.total, 1)


def wait(timeout: float | None = None) -> bool:
    """Wait for the running warm-up (tests and benchmarks); True when none is left running."""
    thread = _STATE.thread
    if thread is not None:
        thread.join(timeout)
    return thread is None or not thread.is_alive()
