"""Real browser: payload names and a crafted ``?merchant=`` link show as text; nothing is fetched from
the payloads' host and no link or image of theirs is in the page (issue #17).

One server over one payload state (tests/support/payloads.py) for both journeys; every request the
page makes is recorded from the first navigation on.
"""
from __future__ import annotations

import re
from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import expect

from tests.support.app import PASSWORD, USERS, browser_open
from tests.support.payloads import (BIDI_CONTROLS, BUSINESS_AT, DIRECTIVES, EVIL_HOST, HTML_IMG, KATEX, MARKDOWN_IMAGE,
                                    MARKDOWN_LINK, PAYLOADS, install_payload_state)

pytestmark = pytest.mark.browser

#: Payload merchants visited in Merchant review (by corpus name).
VISITED = ("markdown_link", "markdown_image", "autolink", "html_img", "katex", "bidi")


@pytest.fixture(scope="module")
def payload_server(tmp_path_factory, small_book, trained):
    """(base URL, book) of a ``streamlit run`` over the payload state."""
    from bench.serve import streamlit_server

    state = tmp_path_factory.mktemp("payload_browser_state")
    store, book = install_payload_state(state, small_book, trained, USERS, PASSWORD)
    store.close()
    with streamlit_server(state) as url:
        yield url, book


@pytest.fixture
def watched(page):
    """The page, and the URLs of every request its context makes."""
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    return page, requests


def _main_text(page) -> str:
    """Everything the main area holds as text (dataframe cells are in its accessible grid)."""
    return page.get_by_test_id("stMain").evaluate("e => e.textContent")


def _assert_no_payload_markup(page, requests: list[str]) -> None:
    """No link, image, script, frame or math of a payload in the page, no bidi control, no request to its host."""
    assert page.locator(f'a[href*="{EVIL_HOST}"]').count() == 0
    assert page.locator(f'img[src*="{EVIL_HOST}"], [srcset*="{EVIL_HOST}"]').count() == 0
    assert page.locator(".katex").count() == 0  # no KaTeX math rendered (the app shows none of its own)
    assert page.locator(f'script[src*="{EVIL_HOST}"], iframe').count() == 0
    html = page.content()
    assert not [c for c in BIDI_CONTROLS if c in html]
    assert not [u for u in requests if (urlparse(u).hostname or "").endswith(EVIL_HOST)]


def test_payload_merchants_and_upload_names_render_as_text(watched, payload_server):
    page, requests = watched
    url, book = payload_server
    ids = book.merchants["merchant_id"].astype(str).tolist()
    browser_open(page, url, "merchant_review")
    search = page.get_by_label("가맹점 ID 또는 상호 검색")
    for name in VISITED:
        position = list(PAYLOADS).index(name)
        merchant_id = ids[BUSINESS_AT + position]
        search.fill(merchant_id)
        search.press("Enter")
        expect(page.get_by_role("combobox", name="가맹점")).to_have_value(re.compile(f"^{merchant_id} · "))
        expect(page.get_by_test_id("stMetric").filter(has_text="신용점수").first).to_be_visible()
        page.wait_for_timeout(300)  # the profile grid's cells are drawn after the metrics
        _assert_no_payload_markup(page, requests)
    # the first two payloads, shown as the characters they are (selected label and profile cells)
    search.fill(ids[BUSINESS_AT])
    search.press("Enter")
    expect(page.get_by_test_id("stMain")).to_contain_text(MARKDOWN_LINK)
    page.get_by_test_id("stSidebarNav").get_by_text("데이터").click()
    expect(page.get_by_test_id("stMain")).to_contain_text("출처: 업로드: ")  # the source said in words
    _assert_no_payload_markup(page, requests)
    assert MARKDOWN_IMAGE + ".csv, " + HTML_IMG in _main_text(page).replace("\u2060", "")  # shown, as text


def test_crafted_merchant_link_is_reflected_as_text(watched, payload_server):
    page, requests = watched
    url, _ = payload_server
    for payload in (MARKDOWN_LINK, MARKDOWN_IMAGE, HTML_IMG, KATEX, DIRECTIVES):
        crafted = "zz " + payload
        browser_open(page, url, "merchant_review?merchant=" + quote(crafted, safe=""))
        warning = page.get_by_test_id("stAlertContentWarning")
        expect(warning).to_contain_text("zz ")
        # literally: brackets, parentheses, dollars and all (URLs hold an invisible word joiner)
        text = warning.evaluate("e => e.textContent")
        assert crafted in text.replace("\u2060", "") and "😄" not in text
        _assert_no_payload_markup(page, requests)
