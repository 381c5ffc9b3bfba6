"""Real browser: an officer logs a merchant's request and downloads an explanation record."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def test_officer_logs_a_request_and_downloads_an_explanation(page, streamlit_server, small_book, app_users):
    merchant_id = small_book.merchants["merchant_id"].iloc[7]
    browser_open(page, streamlit_server, "decisions", user="lee")
    page.get_by_role("tab", name="가맹점 요청").click()
    form = page.get_by_test_id("stForm").filter(has_text="새 요청 접수")
    form.get_by_label("가맹점").fill(merchant_id)
    form.get_by_label("요청 내용").fill("거절 사유 설명 요청")
    form.get_by_role("button", name="접수").click()
    expect(page.get_by_text(re.compile(r"요청 #\d+을 접수했습니다"))).to_be_visible()
    logged = [r for r in app_users.list_requests() if r.merchant_id == merchant_id]
    assert logged and logged[-1].opened_by == "lee" and logged[-1].details == "거절 사유 설명 요청"

    browser_open(page, streamlit_server, "merchant_review", user="lee")
    search = page.get_by_label("가맹점 ID 또는 상호 검색")
    search.fill(merchant_id)
    search.press("Enter")
    page.get_by_text("자동화평가 설명서 (요청 시 제공)").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="설명서 다운로드").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert merchant_id in text and "신용점수" in text and "30일" in text
    owner = small_book.merchants.set_index("merchant_id").loc[merchant_id, "owner_name"]
    assert owner not in text


def test_csv_download_is_the_shown_table_audited_once_and_the_toolbar_has_no_export(
        page, streamlit_server, small_book, app_users, trained):
    from cb_core.features.pipeline import current_snapshot

    scores = trained[0].score(current_snapshot(small_book))
    merchant_id = scores["score"].idxmin()  # well below the cutoff: it has reasons to download
    before = len(app_users.audit_log({"action": "export.csv", "user": "lee"}))
    browser_open(page, streamlit_server, "merchant_review", user="lee")
    search = page.get_by_label("가맹점 ID 또는 상호 검색")
    search.fill(merchant_id)
    search.press("Enter")
    expect(page.get_by_role("combobox", name="가맹점")).to_have_value(re.compile(f"^{merchant_id} · "))
    # this merchant's run over: a download button of the previous run would download nothing
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    table.hover()  # the toolbar shows on hover: search and fullscreen, but no download
    expect(page.get_by_test_id("stElementToolbar").first).to_be_attached()
    assert page.get_by_role("button", name=re.compile("Download as CSV|CSV로 다운로드")).count() == 0
    with page.expect_download(timeout=90_000) as download:  # made on the click (deferred), on a loaded machine
        page.get_by_role("button", name="CSV 다운로드").first.click()
    assert download.value.suggested_filename == f"reasons_{merchant_id}.csv"
    lines = open(download.value.path(), encoding="utf-8-sig").read().splitlines()
    assert 2 <= len(lines) <= 5  # header + 1..4 reason codes
    deadline = time.monotonic() + 30  # the click's rerun records it: wait for that run, then once more
    while len(app_users.audit_log({"action": "export.csv", "user": "lee"})) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    entries = app_users.audit_log({"action": "export.csv", "user": "lee"})  # newest first
    assert len(entries) == before + 1  # exactly once
    assert entries[0].entity_id == f"reasons_{merchant_id}.csv"
    assert entries[0].after["rows"] == len(lines) - 1
