"""Real browser: the Watch-list in Korean, recording an officer's action (the session's shared server)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cb_core.i18n import t
from cb_core.loans import watchlist
from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def test_officer_records_a_review_on_the_watch_list(page, streamlit_server, app_users, small_book, trained):
    first = watchlist(small_book, trained[0]).iloc[0]
    merchant = str(first["merchant_id"])
    before = len(app_users.watch_actions(merchant))
    # a cold server's first run imports the engine: on a loaded machine it was measured at ~43 s
    page.goto(f"{streamlit_server}/watchlist")
    expect(page.get_by_label("사용자 이름")).to_be_visible(timeout=180_000)
    browser_open(page, streamlit_server, "watchlist", user="lee")
    expect(page.locator("h1", has_text=t("nav_watchlist", "ko"))).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_text(t("nav_watchlist", "ko"), exact=True)).to_be_visible()
    # the flagged loans' table: the most severe loan first, its triggers in Korean words
    expect(page.locator('[role="gridcell"]', has_text=str(first["loan_id"])).first).to_be_attached()
    words = t(f"loans_trigger_{first['triggers'].split(';')[0]}", "ko")
    expect(page.locator('[role="gridcell"]', has_text=words).first).to_be_attached()
    form = page.get_by_test_id("stForm")
    form.get_by_text(t("watch_action_review", "ko"), exact=True).click()
    note = "브라우저 테스트: 최근 3개월 매출 하락 확인"
    form.get_by_label(t("watch_note", "ko")).fill(note)
    form.get_by_role("button", name=t("watch_save", "ko")).click()
    expect(page.get_by_text(t("watch_saved", "ko", action=t("watch_action_review", "ko"), merchant=merchant))) \
        .to_be_visible()
    actions = app_users.watch_actions(merchant)
    assert len(actions) == before + 1
    assert (actions[-1].action, actions[-1].user, actions[-1].note) == ("review", "lee", note)
    assert app_users.audit_log({"action": "watch.review", "entity_id": merchant})[0].user == "lee"
    expect(page.locator('[role="gridcell"]', has_text=note).first).to_be_attached()  # the history shows it
