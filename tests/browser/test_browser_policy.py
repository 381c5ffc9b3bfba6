"""Real browser: the Cutoff tuning slider moves the live numbers; Portfolio renders."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def test_slider_updates_approval_rate(page, streamlit_server):
    browser_open(page, streamlit_server, "cutoffs", user="kim")
    # the headline approval rate by its exact label: "신파일러 승인율" (thin-file approval) also holds "승인율",
    # and while the page's first run is still drawing it may be the only such metric on screen
    label = page.get_by_test_id("stMetricLabel").get_by_text("승인율", exact=True)
    metric = page.get_by_test_id("stMetric").filter(has=label)
    expect(metric).to_have_count(1)
    expect(metric).to_contain_text("%")
    before = metric.get_by_test_id("stMetricValue").inner_text()
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(25):
        slider.press("ArrowRight")
    expect(metric.get_by_test_id("stMetricValue")).not_to_have_text(before, timeout=30_000)
    after = float(metric.get_by_test_id("stMetricValue").inner_text().rstrip("%"))
    assert after < float(before.rstrip("%"))  # a higher cutoff approves fewer


def test_portfolio_renders_for_an_officer(page, streamlit_server):
    browser_open(page, streamlit_server, "", user="lee")  # the first page is served at /
    expect(page.get_by_text(re.compile("적용 정책"))).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
