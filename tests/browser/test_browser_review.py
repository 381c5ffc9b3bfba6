"""Real browser: Merchant review and Model report over the small book and its model."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def test_review_a_merchant_in_the_browser(page, streamlit_server, small_book, trained):
    from cb_core.features.pipeline import current_snapshot

    model, _ = trained
    scores = model.score(current_snapshot(small_book))
    merchant_id = scores["score"].idxmin()
    browser_open(page, streamlit_server, "merchant_review")
    search = page.get_by_label("가맹점 ID 또는 상호 검색")
    search.fill(merchant_id)
    search.press("Enter")
    metric = page.get_by_test_id("stMetric").filter(has_text="신용점수").first
    expect(metric).to_contain_text(str(int(scores.loc[merchant_id, "score"])))
    expect(page.get_by_text("주요 사유", exact=True)).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    # personal data: admin sees the owner's name (masking for other roles is tested in AppTest)
    owner = small_book.merchants.set_index("merchant_id").loc[merchant_id, "owner_name"]
    # the profile is a dataframe (plain text, ui.text): drawn on a canvas, its cells are in the accessible grid
    expect(page.locator('[role="gridcell"]', has_text=owner).first).to_be_attached()


def test_model_report_in_the_browser(page, streamlit_server, trained):
    model, _ = trained
    browser_open(page, streamlit_server, "model_report")
    expect(page.get_by_test_id("stMetric").filter(has_text="AUC").first).to_contain_text(
        f"{model.card['metrics']['auc']:.3f}")
    expect(page.get_by_test_id("stSidebarNav").get_by_text("모형 보고서")).to_be_visible()
    expect(page.get_by_text("모형 비교 (같은 표본 외 기간)")).to_be_visible()
    expect(page.get_by_role("tab", name="ROC")).to_be_visible()


def test_the_merchant_picker_follows_a_language_switch(page, streamlit_server, small_book, trained):
    """The chosen merchant's label in the picker is redrawn in the new language (a keyed selectbox otherwise
    keeps the label it drew: streamlit/streamlit#13788), and the choice itself is kept."""
    from cb_core.data import categories
    from cb_core.features.pipeline import current_snapshot

    model, _ = trained
    scores = model.score(current_snapshot(small_book))
    merchant_id = scores["score"].idxmax()
    category = categories()[small_book.merchants.set_index("merchant_id").loc[merchant_id, "category"]]
    score = int(scores.loc[merchant_id, "score"])
    browser_open(page, streamlit_server, "merchant_review")
    search = page.get_by_label("가맹점 ID 또는 상호 검색")
    search.fill(merchant_id)
    search.press("Enter")
    # the chosen option's label is the combobox input's value
    expect(page.get_by_role("combobox", name="가맹점", exact=True)).to_have_value(
        re.compile(rf"^{merchant_id} · .* · {re.escape(category['ko'])} · .* · {score}점$"))
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Score").first).to_contain_text(str(score))
    expect(page.get_by_role("combobox", name="Merchant", exact=True)).to_have_value(
        re.compile(rf"^{merchant_id} · .* · {re.escape(category['en'])} · .* · score {score}$"))
