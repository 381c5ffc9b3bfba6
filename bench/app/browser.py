"""The app in Chromium: a fresh ``streamlit run app.py`` (bench/serve.py) per measurement, its start to
the first page, then the Merchant review page's first and warm visits. Playwright loads inside
:func:`measure_app`."""
from __future__ import annotations

import logging
import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from .. import procfs
from ..serve import CHROMIUM, CHROMIUM_ARGS, StreamlitServer
from .records import load1, record
from .state import BENCH_PASSWORD, BENCH_USER

log = logging.getLogger("bench.app")

#: Browser-side polling of the ready predicates (ms): the resolution of the browser timings.
POLL_MS = 10


IDLE_JS = """
const app = document.querySelector('[data-testid="stApp"]');
if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
if (document.querySelector('[data-stale="true"]')) return false;
const shown = (el) => { if (!el) return false; const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
"""

LOGIN_FORM_JS = "(a) => { %s return shown(document.querySelector(`input[aria-label=\"${a.user}\"]`)) && " \
                "shown(document.querySelector(`input[aria-label=\"${a.password}\"]`)); }" % IDLE_JS

FIRST_PAGE_JS = """(a) => { %s
  if (document.querySelector(`input[aria-label="${a.password}"]`)) return false;
  const h1 = [...document.querySelectorAll('h1')].some(h => h.innerText.includes(a.title));
  const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
      .some(m => m.innerText.includes(a.metricLabel) && m.innerText.includes(a.metricValue));
  const charts = [...document.querySelectorAll('.js-plotly-plot')].filter(shown).length >= 2;
  return h1 && metric && charts;
}""" % IDLE_JS

REVIEW_JS = """(a) => { %s
  const metric = [...document.querySelectorAll('[data-testid="stMetric"]')].find(m => m.innerText.includes(a.scoreLabel));
  const value = metric && metric.querySelector('[data-testid="stMetricValue"]');
  if (!value || value.innerText.trim() !== a.score) return false;
  const select = document.querySelector('[data-testid="stSelectbox"] input');
  if (!select || !select.value.startsWith(a.merchantId + ' ')) return false;
  const waterfall = [...document.querySelectorAll('.js-plotly-plot')].find(p => p.querySelector('.waterfalllayer .trace'));
  if (!shown(waterfall)) return false;
  const heading = [...document.querySelectorAll('h3')].find(h => h.innerText.includes(a.reasonsTitle));
  if (!shown(heading)) return false;
  const ok = shown(document.querySelector('[data-testid="stDataFrame"]'));
  if (ok && window.__cb && window.__cb.ready === null) window.__cb.ready = performance.now();
  return ok;
}""" % IDLE_JS

#: Installed just before an action: browser times of the script's run as the page sees it (the
#: first switch to ``running``, the last back to ``notRunning``) and of the ready predicate.
WATCH_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const cb = window.__cb = {t0: performance.now(), running: null, finished: null, ready: null};
  if (window.__cbObserver) window.__cbObserver.disconnect();
  window.__cbObserver = new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running' && cb.running === null) cb.running = performance.now();
    if (state === 'notRunning' && cb.running !== null) cb.finished = performance.now();
  });
  window.__cbObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


class WsCounter:
    """Bytes and frames the page received over Streamlit's websocket."""

    def __init__(self, page) -> None:
        self.bytes = self.frames = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: Any) -> None:
        self.bytes += len(payload)
        self.frames += 1


def _peak_mb(server: StreamlitServer) -> float | None:
    """The server process's peak RSS (VmHWM), MiB."""
    return procfs.status_mib("VmHWM", server.pid)


def _labels() -> dict[str, str]:
    from cb_core.i18n import t

    return {k: t(k, "ko") for k in ("login_user", "login_password", "login_submit", "nav_portfolio", "data_merchants",
                                     "nav_merchant_review", "review_score", "review_reasons", "review_search")}


def measure_start(browser, state: Path, facts: dict[str, Any], merchants: int, mode: str, work: Path,
                  timeout_s: float, review_visits: int = 0, page_rounds: int = 0) -> list[dict[str, Any]]:
    """One fresh server: launch -> health -> login form -> first page; then, with ``review_visits``,
    the Merchant review page's first visit and that many warm visits. Returns the records.

    ``mode`` "pages" (cache/ kept, as "warm"): after the login, every page's first visit and
    ``page_rounds`` warm visits (:mod:`bench.app.pages`); its records are the pages' only (the
    landing page's as ``page_first_portfolio``)."""
    labels = _labels()
    if mode == "cold":
        shutil.rmtree(state / "cache", ignore_errors=True)
    cache_files = sorted(p.name.split("-")[0] for p in (state / "cache").glob("*.parquet")) if mode == "warm" else []
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    ws = WsCounter(page)
    env = {k: v for k, v in os.environ.items() if k != "CB_DATABASE_URL"}
    server = StreamlitServer(state, env=env, log_path=work / f"streamlit-n{merchants}-{mode}.log", timeout=timeout_s,
                             poll=0.02)
    load_start = load1()
    records: list[dict[str, Any]] = []
    try:
        t0 = server.start()
        t_health = server.wait_healthy()
        page.goto(server.url)
        page.wait_for_function(LOGIN_FORM_JS, arg={"user": labels["login_user"], "password": labels["login_password"]},
                               polling=POLL_MS, timeout=timeout_s * 1000)
        t_form = time.perf_counter()
        page.get_by_label(labels["login_user"]).fill(BENCH_USER)
        page.get_by_label(labels["login_password"], exact=True).fill(BENCH_PASSWORD)
        bytes_before = ws.bytes
        t_click = time.perf_counter()
        page.get_by_role("button", name=labels["login_submit"]).click()
        page.wait_for_function(FIRST_PAGE_JS, arg={"password": labels["login_password"], "title": labels["nav_portfolio"],
                                                   "metricLabel": labels["data_merchants"], "metricValue": f"{merchants:,}"},
                               polling=POLL_MS, timeout=timeout_s * 1000)
        t_page = time.perf_counter()
        peak, rss, cpu = _peak_mb(server), procfs.status_mib("VmRSS", server.pid), procfs.cpu_seconds(server.pid)
        what = ("cache/ deleted first: the book is read from parquet, snapshot and scores computed" if mode == "cold"
                else f"cache/ kept ({', '.join(cache_files) or 'none'} parquet files)")
        common = {"load_start": load_start, "mode": mode}
        if mode == "pages":
            from .pages import measure_pages

            records.append(record("page_first_portfolio", merchants, t_page - t_click, peak_rss_mb=peak,
                                  notes=f"{labels['nav_portfolio']}: click on log in -> landing page shown (title, "
                                        f"merchant count, both charts), script not running; server started "
                                        f"{t_click - t0:.1f} s before the click (cache/ kept); "
                                        f"{(ws.bytes - bytes_before) / 1e3:,.0f} kB over the websocket",
                                  ws_bytes=ws.bytes - bytes_before, **common))
            records += measure_pages(page, ws, server, merchants, page_rounds, timeout_s,
                                     first_page_seconds=t_page - t_click)
            return records
        records += [
            record(f"server_up_{mode}", merchants, t_health - t0, notes="launch of `streamlit run app.py` -> "
                   "/_stcore/health answers 200", **common),
            record(f"login_form_{mode}", merchants, t_form - t0, notes=f"launch -> login form shown in Chromium "
                   f"({t_form - t_health:.2f} s after health: first script run, imports)", **common),
            record(f"first_page_{mode}", merchants, t_page - t_click, notes="click on log in -> landing page "
                   "(Portfolio) shown: title, merchant count, both charts, script not running; "
                   f"{(ws.bytes - bytes_before) / 1e3:,.0f} kB over the websocket", ws_bytes=ws.bytes - bytes_before,
                   **common),
            record(f"app_ready_{mode}", merchants, t_page - t0, peak_rss_mb=peak,
                   notes=f"launch -> first page shown (includes typing the login, {t_click - t_form:.2f} s); {what}; "
                         f"server CPU {cpu:,.1f} s, peak RSS (VmHWM) {peak:,.0f} MiB, RSS {rss:,.0f} MiB then",
                   rss_mb=rss, server_cpu_seconds=cpu, **common),
        ]
        if review_visits:
            records += measure_review(page, ws, server, facts, merchants, review_visits, labels, timeout_s)
    finally:
        context.close()
        server.stop()
    return records


def measure_review(page, ws: WsCounter, server: StreamlitServer, facts: dict[str, Any], merchants: int, visits: int,
                   labels: dict[str, str], timeout_s: float) -> list[dict[str, Any]]:
    """Merchant review: the first visit (sidebar link) and ``visits`` searches for other merchants."""
    load_start = load1()

    def wait(merchant_id: str, score: int) -> tuple[float, dict[str, float | None]]:
        """Wait until the merchant is shown; return that moment and the page's phases (seconds)."""
        page.wait_for_function(REVIEW_JS, arg={"scoreLabel": labels["review_score"], "score": str(score),
                                               "merchantId": merchant_id, "reasonsTitle": labels["review_reasons"]},
                               polling=POLL_MS, timeout=timeout_s * 1000)
        done = time.perf_counter()
        b = page.evaluate("() => window.__cb")
        if b["running"] is None or b["finished"] is None or b["ready"] is None:
            return done, {"to_running": None, "running": None, "after_run": None}
        return done, {"to_running": (b["running"] - b["t0"]) / 1e3, "running": (b["finished"] - b["running"]) / 1e3,
                      "after_run": max(0.0, b["ready"] - b["finished"]) / 1e3}

    def phases_note(phases: list[dict[str, float | None]]) -> str:
        def med(key: str) -> str:
            values = [p[key] for p in phases if p[key] is not None]
            return f"{statistics.median(values):.3f} s" if values else "—"
        return (f"in the page: action -> script running {med('to_running')}, script running {med('running')}, "
                f"from its end to everything shown {med('after_run')}")

    before = ws.bytes
    page.evaluate(WATCH_JS)
    t = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text(labels["nav_merchant_review"]).click()
    done, first_phases = wait(facts["first_merchant"], facts["first_score"])
    first = done - t
    first_bytes = ws.bytes - before
    records = [record("review_first_visit", merchants, first, peak_rss_mb=_peak_mb(server), load_start=load_start,
                      notes="click on the Merchant review link -> the default merchant's score, waterfall and "
                            "reasons shown, script not running (first run of the page in this server: "
                            f"cutoff reference, category bands, activity index built); {first_bytes / 1e3:,.0f} kB "
                            f"over the websocket; {phases_note([first_phases])}", ws_bytes=first_bytes,
                      phases=first_phases)]
    search = page.get_by_label(labels["review_search"])
    pairs = list(zip(facts["visit_merchants"], facts["visit_scores"]))

    def series(previous: int) -> tuple[list[float], list[int], list[str], list[dict], int]:
        """``visits`` searches for merchants not visited yet (each a new score on screen)."""
        times, sizes, chosen, phases = [], [], [], []
        while pairs and len(chosen) < visits:
            merchant_id, score = pairs.pop(0)
            if score == previous:  # a new score on screen proves the new merchant is shown (besides its id)
                continue
            search.fill(merchant_id)
            before = ws.bytes
            page.evaluate(WATCH_JS)
            t = time.perf_counter()
            search.press("Enter")
            done, visit_phases = wait(merchant_id, score)
            times.append(done - t)
            phases.append(visit_phases)
            sizes.append(ws.bytes - before)
            chosen.append(merchant_id)
            previous = score
        return times, sizes, chosen, phases, previous

    def warm_record(step: str, when: str, times, sizes, chosen, phases, load_at: float, **extra) -> dict[str, Any]:
        heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : null")
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
        return record(
            step, merchants, statistics.median(times), peak_rss_mb=_peak_mb(server), load_start=load_at,
            notes=f"median of {len(times)} merchants typed into the search box (Enter) {when} -> score, waterfall, "
                  f"reasons shown, script not running; min {min(times):.3f} s, p95 {p95:.3f} s, max {max(times):.3f} s; "
                  f"websocket per visit median {statistics.median(sizes) / 1e3:,.0f} kB, max {max(sizes) / 1e3:,.0f} kB; "
                  f"page JS heap after all visits {heap / 2**20 if heap else float('nan'):,.1f} MiB; medians "
                  f"{phases_note(phases)}; peak RSS: the server's VmHWM",
            visits=len(times), min_seconds=min(times), p95_seconds=p95, max_seconds=max(times), all_seconds=times,
            ws_bytes_median=statistics.median(sizes), ws_bytes_max=max(sizes), page_js_heap_bytes=heap,
            merchant_ids=chosen, phases=phases, **extra)

    times, sizes, chosen, phases, previous = series(facts["first_score"])
    records.append(warm_record("review_warm_visit", "right after the first visit, while the server's background "
                               "warm-up may still run", times, sizes, chosen, phases, load_start))
    # then again once the server has finished warming (its CPU idle), with merchants not visited before
    t = time.perf_counter()
    idle = _wait_idle(server.pid, timeout_s)
    waited = time.perf_counter() - t
    if idle and pairs:
        load_idle = load1()
        times, sizes, chosen, phases, previous = series(previous)
        if times:
            records.append(warm_record(
                "review_warm_visit_idle", f"after the server's warm-up ended (its CPU idle {waited:.0f} s after the "
                "previous visits)", times, sizes, chosen, phases, load_idle, waited_for_idle_s=waited))
    return records


def _wait_idle(pid: int, timeout_s: float, quiet_s: float = 3.0, poll_s: float = 1.0) -> bool:
    """Wait until the server process has used under 5% of a core for ``quiet_s`` in a row (its
    background warm-up has ended); False after ``timeout_s``."""
    end = time.perf_counter() + timeout_s
    last, quiet = procfs.cpu_seconds(pid), 0.0
    while last is not None and time.perf_counter() < end:
        time.sleep(poll_s)
        now = procfs.cpu_seconds(pid)
        if now is None:  # the server is gone
            return False
        quiet = quiet + poll_s if now - last < 0.05 * poll_s else 0.0
        last = now
        if quiet >= quiet_s:
            return True
    return False


def measure_app(sizes: list[int], prepared: dict[int, tuple[Path, dict]], review_at: int | None, visits: int,
                work: Path, timeout_s: float, emit, pages_at: int | None = None,
                page_rounds: int = 5, pages_only: bool = False) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install chromium)")
    out: list[dict[str, Any]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for n in sizes:
                state, facts = prepared[n]
                for mode in ("cold", "warm", "pages"):
                    if (mode == "pages" and n != pages_at) or (pages_only and mode != "pages"):
                        continue
                    log.info("%s merchants: app start, %s ...", f"{n:,}", mode)
                    records = measure_start(browser, state, facts, n, mode, work, timeout_s,
                                            review_visits=visits if (mode == "warm" and n == review_at) else 0,
                                            page_rounds=page_rounds)
                    for r in records:
                        emit(r)
                    out += records
        finally:
            browser.close()
    return out


__all__ = ["POLL_MS", "WsCounter", "measure_app", "measure_review", "measure_start"]
