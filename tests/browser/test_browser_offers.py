"""Real browser: a partner opens its view and takes the HTML report away."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cb_core.offers import load_products
from tests.support.app import USERS, browser_open

pytestmark = pytest.mark.browser


def test_partner_downloads_its_report(page, streamlit_server, small_book, tmp_path):
    partner = USERS["park"][1]
    browser_open(page, streamlit_server, "partner_view", user="park")
    expect(page.get_by_test_id("stMetric").filter(has_text="대상 가맹점").first).to_be_visible()
    button = page.get_by_role("button", name="보고서 내려받기 (HTML)")
    with page.expect_download(timeout=120_000) as download:  # the report is built on the click; CI once over 30 s
        button.click()
    assert download.value.suggested_filename == "partner_report_Hanbit_Bank.html"
    path = tmp_path / "report.html"
    download.value.save_as(path)
    report = path.read_text(encoding="utf-8")

    products = load_products()
    assert report.startswith("<!DOCTYPE html>") and "<script" not in report
    for name in products.loc[products["partner"] == partner, "name"]:
        assert name in report
    others = products[products["partner"] != partner]
    assert not [v for col in ("product_id", "name", "partner", "partner_ko") for v in others[col] if v in report]
    assert not [n for n in small_book.merchants["owner_name"] if n in report]
    assert not [r for r in small_book.merchants["business_reg_no"] if r in report]
