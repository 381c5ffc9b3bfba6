"""The app benchmarks (``python -m bench.app``, bench/app/) in their smallest mode against a real server
and Chromium: well-formed records, every step present, the RESULTS.md section built from them. Times
are never asserted (the machine is shared)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import pytest

from bench.app.report import results_section
from tests.support.app import CHROMIUM, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VISITS = 2
#: The every-page step's records (bench/app/pages.py), in navigation order.
PAGE_STEPS = ["page_first_portfolio", *[f"page_first_{p}" for p in ("merchant_review", "decisions", "watchlist",
                                                                     "model_report", "book_performance", "cutoffs",
                                                                     "products", "partner_view", "data", "admin")],
              *[f"page_warm_{p}" for p in ("portfolio", "merchant_review", "decisions", "watchlist", "model_report",
                                           "book_performance", "cutoffs", "products", "partner_view", "data",
                                           "admin")], "pages_summary"]


@pytest.fixture(scope="module")
def app_run(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing but browser tests are required (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    work = tmp_path_factory.mktemp("bench_app")
    done = subprocess.run([sys.executable, "-m", "bench.app", "--merchants", "2000",
                           "--visits", str(VISITS), "--page-rounds", "1", "--no-explainerdashboard", "--no-results", "--workdir", str(work),
                           "--timeout", "240"], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done, records, work


def test_smallest_run_reports_every_step_well_formed(app_run):
    done, records, work = app_run
    assert done.returncode == 0, done.stderr[-3000:]
    by_step = {r["step"]: r for r in records}
    assert [r["step"] for r in records] == ["prepare", *[f"{s}_cold" for s in ("server_up", "login_form", "first_page",
                                                                              "app_ready")],
                                            *[f"{s}_warm" for s in ("server_up", "login_form", "first_page", "app_ready")],
                                            "review_first_visit", "review_warm_visit", "review_warm_visit_idle",
                                            *PAGE_STEPS]
    for r in records:
        assert r["status"] == "ok", r
        assert r["merchants"] == 2000
        assert isinstance(r["seconds"], float) and r["seconds"] > 0, r
        assert isinstance(r["load_1m_end"], float) and r["notes"], r
    for mode in ("cold", "warm"):
        steps = [by_step[f"{s}_{mode}"]["seconds"] for s in ("server_up", "login_form", "app_ready")]
        assert steps == sorted(steps), steps  # one timeline from the launch
        assert by_step[f"first_page_{mode}"]["seconds"] < by_step[f"app_ready_{mode}"]["seconds"]
        assert by_step[f"app_ready_{mode}"]["peak_rss_mb"] > 0
    assert "cache/ deleted first" in by_step["app_ready_cold"]["notes"]
    assert "snapshot" in by_step["app_ready_warm"]["notes"]  # the cold run left the snapshot cache behind
    warm = by_step["review_warm_visit"]
    assert warm["visits"] == VISITS == len(warm["all_seconds"]) == len(set(warm["merchant_ids"]))
    assert warm["min_seconds"] <= warm["seconds"] <= warm["p95_seconds"] <= warm["max_seconds"]
    assert 0 < warm["ws_bytes_median"] <= warm["ws_bytes_max"]
    idle = by_step["review_warm_visit_idle"]  # once the warm-up ended: other merchants, never the same ones again
    assert idle["visits"] == len(idle["all_seconds"]) > 0 and not set(idle["merchant_ids"]) & set(warm["merchant_ids"])
    assert idle["waited_for_idle_s"] >= 3 and "warm-up ended" in idle["notes"]
    assert (work / "n2000" / "prepared.json").exists()
    summary = by_step["pages_summary"]
    assert set(summary["first_seconds"]) == set(summary["warm_median_seconds"]) == {
        s.removeprefix("page_warm_") for s in PAGE_STEPS if s.startswith("page_warm_")}
    assert summary["seconds"] == max(summary["first_seconds"].values())
    for page, seconds in summary["warm_median_seconds"].items():
        r = by_step[f"page_warm_{page}"]
        assert r["visits"] == 1 and r["all_seconds"] == [seconds] == [r["max_seconds"]]


def test_section_names_the_machine_and_every_record(app_run):
    _, records, _ = app_run
    text = results_section(records, "python -m bench.app --merchants 2000", (1.0, 2.0, 3.0), (4.0, 5.0, 6.0),
                           datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc), 80.4)
    assert text.startswith("## 2026-12-01 10:00 UTC: app benchmarks (python -m bench.app), 2,000 merchants\n")
    assert "- Command: `python -m bench.app --merchants 2000` (total 80 s wall)" in text
    assert f"streamlit {version('streamlit')}, playwright {version('playwright')}, Chromium `Chromium " in text
    assert "at start 1.00 / 2.00 / 3.00, at end 4.00 / 5.00 / 6.00" in text
    rows = [line.split(" | ")[0][2:] for line in text.splitlines() if line.startswith("| ") and "| 2,000 |" in line]
    assert rows == [r["step"] for r in records]
    assert "- Merchant review at 2,000 merchants, warm: median " in text and f"over {VISITS} merchants" in text
    assert "- Every page at 2,000 merchants: first visits " in text and "(goal ≤ 1 s: " in text
