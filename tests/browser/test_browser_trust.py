"""Real browser: a thin-file merchant's reasons say "no bureau record" (never "low ... nan"), and the
decision form presets the policy's decision and refuses a decision against it without a note (#13)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def _main_text(page) -> str:
    """All text of the page's main area, dataframe cells included (they are an accessible grid)."""
    return page.get_by_test_id("stMain").evaluate("e => e.textContent")


def _search(page, merchant_id: str) -> None:
    search = page.get_by_label("가맹점 ID 또는 상호 검색")
    search.fill(merchant_id)
    search.press("Enter")
    expect(page.get_by_role("combobox", name="가맹점")).to_have_value(re.compile(f"^{merchant_id} "))


@pytest.fixture(scope="module")
def review_facts(small_book, trained, app_users):
    """The frame, the policy decisions and a thin-file merchant whose reasons include its missing bureau score."""
    from cb_core.config import get_settings
    from cb_core.explain import cutoff_reference, explain_merchant
    from cb_core.features import current_snapshot
    from cb_core.strategy import decisions, policy_in_force, strategy_frame

    model, _ = trained
    snap = current_snapshot(small_book)
    scores = model.score(snap)
    policy = policy_in_force(app_users).policy
    reference = cutoff_reference(model, snap, scores, policy.approve_cutoff, get_settings().reason_band)
    thin = None
    for merchant_id in snap.index[snap["bureau_score"].isna()]:
        if "bureau_score" in explain_merchant(model, snap, merchant_id, reference).reasons["feature"].tolist():
            thin = merchant_id
            break
    assert thin is not None, "the demo book has a thin-file merchant whose missing bureau score costs points"
    frame = strategy_frame(snap, scores, small_book.merchants, small_book.outcomes)
    return thin, decisions(frame, policy)


def test_a_thin_file_merchant_is_told_no_bureau_record(page, streamlit_server, review_facts):
    thin, _ = review_facts
    browser_open(page, streamlit_server, "merchant_review", user="lee")
    _search(page, thin)
    expect(page.get_by_text("주요 사유", exact=True)).to_be_visible()
    page.get_by_test_id("stMain").evaluate("e => e.scrollTo(0, 0)")
    # the reasons table (the profile above it is a table too)
    reasons = page.locator('[role="grid"]').filter(has_text="대표자 신용평가 기록이 없습니다(신파일러)")
    expect(reasons).to_have_count(1)
    text = reasons.evaluate("e => e.textContent")
    assert "대표자 신용점수가 낮습니다" not in text
    for token in ("nan", "None", "inf"):
        assert token not in text, token


def test_decision_form_presets_the_policy_and_needs_a_note_against_it(page, streamlit_server, review_facts,
                                                                     app_users):
    _, decided = review_facts
    merchant_id = decided[decided == "decline"].index[-3]
    browser_open(page, streamlit_server, "merchant_review", user="lee")
    _search(page, merchant_id)
    # this merchant's form (while the page reruns for it, the previous merchant's form may still be drawn)
    form = page.get_by_test_id("stForm").filter(has_text="정책상 이 점수의 결정: 거절")
    expect(form.get_by_text("정책상 이 점수의 결정: 거절")).to_be_visible()
    expect(form.get_by_role("radio", name="거절")).to_be_checked()
    expect(form.get_by_role("radio", name="승인")).not_to_be_checked()
    form.get_by_text("승인", exact=True).click()
    form.get_by_role("button", name="결정 저장").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="사유를 메모에 적어야 저장됩니다")).to_be_visible()
    assert app_users.decisions_for(merchant_id) == []
    form.get_by_role("textbox").fill("통장 거래 내역으로 매출 확인")
    form.get_by_role("button", name="결정 저장").click()
    # the saved message, not the note still in its text box, says the save went through
    expect(page.get_by_test_id("stAlert").filter(has_text=re.compile(r"결정 #\d+을 저장했습니다"))).to_be_visible()
    [saved] = app_users.decisions_for(merchant_id)
    assert (saved.decision, saved.note) == ("approve", "통장 거래 내역으로 매출 확인")
