"""Real browser: a path that is no page opens the first page with a message in the user's language,
never Streamlit's English "Page not found" dialog (server.py, ui.page_paths)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def _no_english_dialog(page) -> None:
    page.wait_for_timeout(500)  # the dialog opens after the script's first message
    assert page.get_by_text(re.compile("Page not found|no corresponding file", re.I)).count() == 0


@pytest.mark.parametrize("path", ["merchant_reveiw", "portfolio"])
def test_a_path_that_is_no_page_opens_the_first_page_in_korean(page, streamlit_server, path):
    """A typo, and the admin's first page by its file name (that page is served at /)."""
    browser_open(page, streamlit_server)
    page.goto(f"{streamlit_server}/{path}?lang=ko")
    expect(page.get_by_text(f"요청한 주소 /{path} 에 해당하는 페이지가 없거나")).to_be_visible(timeout=60_000)
    expect(page.locator("h1", has_text="포트폴리오")).to_be_visible()
    assert re.fullmatch(re.escape(streamlit_server) + r"/(\?.*)?", page.url), page.url
    assert "missing=" not in page.url  # said once, then dropped from the address
    _no_english_dialog(page)


def test_a_page_of_the_role_is_not_redirected(page, streamlit_server):
    browser_open(page, streamlit_server)
    page.goto(f"{streamlit_server}/data")
    expect(page.locator("h1", has_text="데이터")).to_be_visible(timeout=60_000)
    assert page.url.startswith(f"{streamlit_server}/data")
    assert page.get_by_text("요청한 주소").count() == 0


def test_before_the_login_a_wrong_path_shows_the_login_form(page, streamlit_server):
    page.context.clear_cookies()
    page.goto(f"{streamlit_server}/nowhere")
    expect(page.get_by_role("button", name="로그인")).to_be_visible(timeout=60_000)
    _no_english_dialog(page)
