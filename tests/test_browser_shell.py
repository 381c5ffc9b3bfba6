"""Real browser (Debian's Chromium via Playwright) against ``streamlit run``: shell and Data page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_open

pytestmark = pytest.mark.browser


def _open(page, url: str, path: str = "") -> None:
    browser_open(page, url, path)
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)


def test_navigation_and_language(page, streamlit_server):
    _open(page, streamlit_server)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("데이터")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(nav.get_by_text("Data", exact=True)).to_be_visible()
    nav.get_by_text("Data", exact=True).click()
    expect(page.locator("h1", has_text="Data")).to_be_visible()
    expect(page.get_by_text("Column quality")).to_be_visible()


def test_bad_upload_is_rejected_and_the_book_stays(page, streamlit_server, small_book, tmp_path):
    bad = tmp_path / "merchants.csv"
    text = small_book.merchants.head(5).to_csv(index=False).replace("서울특별시", "Atlantis", 1)
    bad.write_text(text, encoding="utf-8")
    _open(page, streamlit_server, "data")
    expect(page.get_by_text(small_book.fingerprint)).to_be_visible()
    page.locator("input[type=file]").set_input_files(str(bad))
    # the upload finishes before the form is submitted (otherwise the form sees no file yet)
    expect(page.get_by_test_id("stFileUploader").get_by_text("merchants.csv")).to_be_visible()
    page.get_by_role("button", name=re.compile("검증 후 불러오기")).click()
    expect(page.get_by_text(re.compile("문제 \\d+건"))).to_be_visible(timeout=60_000)
    # the book in use did not change
    _open(page, streamlit_server, "data")
    expect(page.get_by_text(small_book.fingerprint)).to_be_visible()
