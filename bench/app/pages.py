"""Every page of the app in Chromium (issue #13, "Speed of first visits"): in a fresh server, after the
login, each page of ``ui/nav.PAGES`` opened once from the sidebar (its first visit after the server's
start), then ``rounds`` more times round-robin (warm visits: median and max per page).

A page is "done" when its title is shown, Streamlit's script state is ``notRunning`` with no stale
element, no exception box is shown, and its main content is on screen: at least the metrics, charts
(plotly) and tables (data frames) of :data:`NEEDS` (what each page shows on the demo book as the
bench's admin user, who may see every page). Timings in the page are taken as in the review steps
(:data:`~bench.app.browser.WATCH_JS`): action -> script running, script running, end -> shown.
"""
from __future__ import annotations

import statistics
import time
from typing import Any

from .browser import IDLE_JS, POLL_MS, WATCH_JS, WsCounter, _peak_mb
from .records import load1, record

#: Per page (file stem): the least number of shown metrics, charts and tables that is its main content.
NEEDS: dict[str, dict[str, int]] = {
    "portfolio": {"metrics": 5, "charts": 2, "frames": 1},
    "merchant_review": {"metrics": 4, "charts": 2, "frames": 1},
    "decisions": {"tabs": 2},
    "watchlist": {"frames": 1},
    "model_report": {"metrics": 5, "charts": 3},
    "book_performance": {"charts": 1},
    "cutoffs": {"metrics": 8, "charts": 1},
    "products": {"frames": 1},
    "partner_view": {"frames": 1},
    "data": {"metrics": 2, "frames": 1},
    "admin": {"frames": 1},
}

PAGE_JS = """(a) => { %s
  const h1 = [...document.querySelectorAll('h1')].some(h => h.innerText.includes(a.title));
  if (!h1) return false;
  if ([...document.querySelectorAll('[data-testid="stException"]')].some(shown)) return {error: true};
  const main = document.querySelector('[data-testid="stMain"]') || document;
  const n = (sel) => [...main.querySelectorAll(sel)].filter(shown).length;
  const got = {metrics: n('[data-testid="stMetric"]'), charts: n('.js-plotly-plot'),
               frames: n('[data-testid="stDataFrame"]'), tabs: n('[role="tab"]')};
  for (const [k, v] of Object.entries(a.need)) if ((got[k] || 0) < v) return false;
  if (window.__cb && window.__cb.ready === null) window.__cb.ready = performance.now();
  return got;
}""" % IDLE_JS

WARMING_JS = """(text) => [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')]
  .map(e => e.innerText).find(t => t.includes(text)) || null"""


def _pages() -> list[tuple[str, str]]:
    """(file stem, Korean title) of every page, in navigation order."""
    from pathlib import Path

    from cb_core.i18n import t
    from ui.nav import PAGES

    return [(Path(p.file).stem, t(p.title_key, "ko")) for p in PAGES]


def _warming_prefix() -> str:
    from cb_core.i18n import t

    return t("warming_up", "ko", done=0, total=0).split("0")[0].strip()


def measure_pages(page, ws: WsCounter, server, merchants: int, rounds: int, timeout_s: float,
                  first_page_seconds: float | None = None) -> list[dict[str, Any]]:
    """Every page's first visit (sidebar link) and ``rounds`` warm visits; one record per page and
    kind (``page_first_<stem>``, ``page_warm_<stem>``), and ``pages_summary``."""
    pages = _pages()
    prefix = _warming_prefix()
    load_start = load1()
    nav = page.get_by_test_id("stSidebarNav")

    def visit(stem: str, title: str) -> dict[str, Any]:
        before = ws.bytes
        warming = page.evaluate(WARMING_JS, prefix) if prefix else None
        page.evaluate(WATCH_JS)
        t = time.perf_counter()
        nav.get_by_text(title, exact=True).click()
        handle = page.wait_for_function(PAGE_JS, arg={"title": title, "need": NEEDS.get(stem, {})},
                                        polling=POLL_MS, timeout=timeout_s * 1000)
        done = time.perf_counter()
        got = handle.json_value()
        b = page.evaluate("() => window.__cb")
        phases = {"to_running": None, "running": None, "after_run": None}
        if b["running"] is not None and b["finished"] is not None and b["ready"] is not None:
            phases = {"to_running": (b["running"] - b["t0"]) / 1e3, "running": (b["finished"] - b["running"]) / 1e3,
                      "after_run": max(0.0, b["ready"] - b["finished"]) / 1e3}
        return {"seconds": done - t, "ws_bytes": ws.bytes - before, "shown": got, "phases": phases,
                "warming": warming, "error": bool(isinstance(got, dict) and got.get("error"))}

    def fmt_phases(p: dict[str, float | None]) -> str:
        def s(k: str) -> str:
            return "—" if p[k] is None else f"{p[k]:.3f} s"
        return f"to running {s('to_running')}, running {s('running')}, end to shown {s('after_run')}"

    out: list[dict[str, Any]] = []
    first: dict[str, dict[str, Any]] = {}
    # The landing page is Portfolio: its first visit is the login's (first_page_*); here it is opened
    # again after the others' first visits, as a warm visit.
    for stem, title in pages:
        if stem == "portfolio":
            continue
        v = first[stem] = visit(stem, title)
        got = v["shown"]
        shown = {k: n for k, n in got.items() if n} if isinstance(got, dict) else got
        out.append(record(f"page_first_{stem}", merchants, v["seconds"], peak_rss_mb=_peak_mb(server),
                          load_start=load_start, status="error" if v["error"] else "ok",
                          notes=f"{title}: click on its sidebar link -> shown ({shown}), script not running; first "
                                f"run of the page in this server; {v['ws_bytes'] / 1e3:,.0f} kB over the websocket; "
                                f"{fmt_phases(v['phases'])}"
                                + (f"; warm-up still running at the click ({v['warming']})" if v["warming"] else ""),
                          ws_bytes=v["ws_bytes"], phases=v["phases"], warming=v["warming"]))
    warm: dict[str, list[dict[str, Any]]] = {stem: [] for stem, _ in pages}
    for _ in range(rounds):
        for stem, title in pages:
            warm[stem].append(visit(stem, title))
    for stem, title in pages:
        visits = warm[stem]
        if not visits:
            continue
        times = [v["seconds"] for v in visits]
        med_phase = {k: statistics.median([v["phases"][k] for v in visits if v["phases"][k] is not None] or [0.0])
                     for k in ("to_running", "running", "after_run")}
        errors = sum(v["error"] for v in visits)
        out.append(record(f"page_warm_{stem}", merchants, statistics.median(times), peak_rss_mb=_peak_mb(server),
                          load_start=load_start, status="error" if errors else "ok",
                          notes=f"{title}: median of {len(times)} visits from the sidebar (round-robin over every "
                                f"page); min {min(times):.3f} s, max {max(times):.3f} s; websocket per visit median "
                                f"{statistics.median(v['ws_bytes'] for v in visits) / 1e3:,.0f} kB; medians "
                                f"{fmt_phases(med_phase)}",
                          visits=len(times), max_seconds=max(times), min_seconds=min(times), all_seconds=times,
                          ws_bytes_median=statistics.median(v["ws_bytes"] for v in visits)))
    firsts = {stem: v["seconds"] for stem, v in first.items()}
    if first_page_seconds is not None:
        firsts["portfolio"] = first_page_seconds
    warm_max = {stem: max(v["seconds"] for v in vs) for stem, vs in warm.items() if vs}
    warm_med = {stem: statistics.median(v["seconds"] for v in vs) for stem, vs in warm.items() if vs}
    slow_first = sorted(s for s, x in firsts.items() if x > 3)
    slow_warm = sorted(s for s, x in warm_med.items() if x > 1)
    out.append(record("pages_summary", merchants, max(firsts.values()) if firsts else None, load_start=load_start,
                      notes=f"slowest first visit {max(firsts, key=firsts.get) if firsts else '—'}; first visits "
                            f"over 3 s: {', '.join(slow_first) or 'none'}; warm medians over 1 s: "
                            f"{', '.join(slow_warm) or 'none'}; slowest warm visit "
                            f"{max(warm_max.values()) if warm_max else float('nan'):.3f} s",
                      first_seconds=firsts, warm_median_seconds=warm_med, warm_max_seconds=warm_max))
    return out


__all__ = ["NEEDS", "PAGE_JS", "measure_pages"]
