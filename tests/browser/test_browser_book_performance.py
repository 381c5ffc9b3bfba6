"""Real browser: a product manager opens Book performance and takes the validation pack away."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cb_core.i18n import t
from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def test_pm_opens_the_page_and_downloads_the_pack(page, streamlit_server, small_book, trained, tmp_path):
    # a cold server on a loaded machine can take longer than one expect to show the login form
    page.goto(streamlit_server)
    expect(page.get_by_label("사용자 이름")).to_be_visible(timeout=120_000)
    browser_open(page, streamlit_server, "book_performance", user="kim")
    expect(page.locator("h1", has_text=t("nav_book_performance", "ko"))).to_be_visible()
    expect(page.get_by_text(t("bp_vintage_heading", "ko"), exact=True)).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the vintage curves are drawn
    page.get_by_text(t("bp_pack_prepare", "ko"), exact=True).click()
    button = page.get_by_role("button", name=t("bp_pack_download", "ko"))
    expect(button).to_be_visible(timeout=120_000)
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == f"validation_pack_{trained[0].version}_ko.html"
    path = tmp_path / "pack.html"
    download.value.save_as(path)
    pack = path.read_text(encoding="utf-8")
    assert pack.startswith("<!DOCTYPE html>") and '<html lang="ko">' in pack and "<script" not in pack
    assert t("bp_sec_backtest", "ko") in pack and t("bp_sec_weights", "ko") in pack
    assert not [r for r in small_book.merchants["business_reg_no"] if r in pack]


def test_the_delinquency_definition_reads_in_the_new_language_after_a_switch(page, streamlit_server):
    """The definition picker starts at 90+ days past due, set as its choice (not index=) so that a language switch
    can set it again: its label is then redrawn in English (streamlit/streamlit#13788; ui.session.translated_picker)."""
    browser_open(page, streamlit_server, "book_performance", user="kim")
    picker = page.get_by_role("combobox", name=t("bp_choose_definition", "ko"), exact=True)
    expect(picker).to_have_value(t("loans_def_dpd_90", "ko"), timeout=60_000)
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    english = page.get_by_role("combobox", name=t("bp_choose_definition", "en"), exact=True)
    expect(english).to_have_value(t("loans_def_dpd_90", "en"))
