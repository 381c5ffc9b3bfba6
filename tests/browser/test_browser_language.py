"""Real browser: the chosen language survives a reload and a page switch (``?lang=`` in the address),
and the audit log shows its times in Korea time."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def test_language_survives_a_reload(page, streamlit_server):
    page.goto(streamlit_server)  # the first visit of a fresh server can be slow on a loaded machine
    expect(page.get_by_label("사용자 이름")).to_be_visible(timeout=180_000)
    browser_open(page, streamlit_server)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("English").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]lang=en\b"))
    page.reload()  # a new session: only the address (and the login cookie) carry over
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=120_000)
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Audit log & users").click()  # another page keeps it too
    expect(page.locator("h1", has_text="Audit log & users")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin\?(.*&)?lang=en\b"))
    page.reload()
    expect(page.locator("h1", has_text="Audit log & users")).to_be_visible(timeout=120_000)
    # times in Korea time with the zone shown (grid cells are in the DOM's text, see TESTING.md)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST"))
    sidebar.get_by_text("한국어").click()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible(timeout=120_000)


def test_a_picker_of_translated_labels_is_redrawn_in_the_new_language(page, streamlit_server):
    """The Data page's table picker (labels from the UI strings): after a switch to English its chosen table
    reads in English, not in the Korean it was drawn in (streamlit/streamlit#13788; ui.session.translated_picker)."""
    from cb_core.i18n import t

    browser_open(page, streamlit_server, "data")
    picker = page.get_by_role("combobox", name=t("data_table", "ko"), exact=True)
    expect(picker).to_have_value(t("table_merchants", "ko"))
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("combobox", name=t("data_table", "en"), exact=True)).to_have_value(t("table_merchants", "en"))
