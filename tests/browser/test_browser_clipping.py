"""Nothing clipped at 1440 px: every headline metric shows its whole value (the Korean expected loss
"5억 7,186만원" in a row of five metrics was cut to "5억 7,1…"), in both languages, on every page with
figures (the new Book performance and Watch-list pages included: each renders in both languages)."""
from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open, browser_page

pytestmark = pytest.mark.browser

PAGES = ("", "cutoffs", "merchant_review", "model_report", "partner_view", "book_performance", "watchlist", "data")  # "" is Portfolio
CLIPPED = """() => [...document.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricLabel"]')]
  .flatMap(m => [m, ...m.querySelectorAll('*')])
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => e.closest('[data-testid="stMetric"]').innerText.replace(/\\s+/g, ' '))"""


def test_chromium_has_a_korean_font():
    """Without one (fonts-nanum, installed by scripts/test.sh) Korean renders as boxes of another width,
    and the clipping check below measures the wrong text: "5억 3,290만원" fitted as boxes and was cut
    with the real glyphs."""
    fonts = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True, timeout=60).stdout
    assert fonts.strip(), "no font with Korean glyphs: apt-get install fonts-nanum"


@pytest.fixture
def wide(chromium):
    with browser_page(chromium, 1440, 900, timeout_ms=60_000) as pg:
        yield pg


@pytest.mark.parametrize("language", ["ko", "en"])
def test_no_headline_metric_is_clipped_at_1440_px(wide, streamlit_server, language):
    browser_open(wide, streamlit_server, PAGES[0])
    for path in PAGES:
        wide.goto(f"{streamlit_server}/{path}")  # a new session: the language is chosen again
        expect(wide.locator("h1").first).to_be_visible(timeout=120_000)
        if language == "en":
            wide.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
            expect(wide.get_by_test_id("stSidebar").get_by_role("button", name="Sign out")).to_be_visible()
        wide.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
        if path not in ("book_performance", "watchlist"):  # their figures are charts and tables
            expect(wide.get_by_test_id("stMetricValue").first).to_be_visible(timeout=120_000)
        clipped = wide.evaluate(CLIPPED)
        assert clipped == [], f"{path} ({language}): clipped metrics {clipped}"
