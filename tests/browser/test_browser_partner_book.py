"""Real browser: a partner opens the Booked book tab of its view and takes the report with it away."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cb_core.i18n import format_count, format_krw
from tests.support.app import USERS, browser_open

pytestmark = pytest.mark.browser


def test_partner_opens_its_booked_book_and_the_report_holds_it(page, streamlit_server, small_book, tmp_path):
    partner = USERS["park"][1]
    loans = small_book.loans[small_book.loans["partner"] == partner]
    months = small_book.loan_months
    at = months[(months["month"] == months["month"].max()) & months["loan_id"].isin(loans["loan_id"])
                & ~months["status"].isin(("repaid", "charged_off"))]

    # a loaded machine can take tens of seconds to draw the first login form of a fresh server
    page.goto(streamlit_server)
    expect(page.get_by_label("사용자 이름")).to_be_visible(timeout=180_000)
    browser_open(page, streamlit_server, "partner_view", user="park")
    expect(page.get_by_role("heading", name="제휴사: 한빛은행")).to_be_visible(timeout=120_000)
    tab = page.get_by_role("tab", name="실행 대출 현황")
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    balance = page.get_by_test_id("stMetric").filter(has_text="대출 잔액")
    expect(balance.first).to_be_visible(timeout=120_000)
    expect(balance.first).to_contain_text(format_krw(at["balance_krw"].sum(), "ko"))
    expect(page.get_by_test_id("stMetric").filter(has_text="실행 대출 수").first).to_contain_text(
        format_count(len(loans), "ko"))
    expect(page.locator(".js-plotly-plot").filter(has_text="월별 대출 잔액과 실행 건수").first).to_be_visible()
    expect(page.get_by_role("heading", name="등급별 연체")).to_be_visible()
    expect(page.get_by_role("heading", name="집중도")).to_be_visible()
    page.screenshot(path=str(tmp_path / "booked_book.png"), full_page=True)

    with page.expect_download(timeout=120_000) as download:  # built on the click; CI once over 30 s
        page.get_by_role("button", name="보고서 내려받기 (HTML)").click()
    path = tmp_path / "report.html"
    download.value.save_as(path)
    report = path.read_text(encoding="utf-8")
    assert "<section id=\"booked-book\">" in report and "<h2>실행 대출 현황</h2>" in report
    assert format_krw(at["balance_krw"].sum(), "ko") in report
    others = small_book.loans.loc[small_book.loans["partner"] != partner, "loan_id"]
    assert not [i for i in others if i in report]
    assert not [n for n in small_book.merchants["owner_name"] if n in report]
    assert not [r for r in small_book.merchants["business_reg_no"] if r in report]
    assert "<script" not in report
