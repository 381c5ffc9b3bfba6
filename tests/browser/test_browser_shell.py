"""Real browser (Debian's Chromium via Playwright) against ``streamlit run``: shell and Data page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def _open(page, url: str, path: str = "") -> None:
    browser_open(page, url, path)
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)


def test_navigation_and_language(page, streamlit_server):
    _open(page, streamlit_server)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("데이터")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(nav.get_by_text("Data", exact=True)).to_be_visible()
    nav.get_by_text("Data", exact=True).click()
    expect(page.locator("h1", has_text="Data")).to_be_visible()
    expect(page.get_by_text("Column quality")).to_be_visible()


def test_bad_upload_is_rejected_and_the_book_stays(page, streamlit_server, small_book, tmp_path):
    bad = tmp_path / "merchants.csv"
    text = small_book.merchants.head(5).to_csv(index=False).replace("서울특별시", "Atlantis", 1)
    bad.write_text(text, encoding="utf-8")
    _open(page, streamlit_server, "data")
    expect(page.get_by_text(small_book.fingerprint)).to_be_visible()
    page.locator("input[type=file]").set_input_files(str(bad))
    # the upload finishes before the form is submitted (otherwise the form sees no file yet)
    expect(page.get_by_test_id("stFileUploader").get_by_text("merchants.csv")).to_be_visible()
    page.get_by_role("button", name=re.compile("검증 후 불러오기")).click()
    expect(page.get_by_text(re.compile("문제 \\d+건"))).to_be_visible(timeout=60_000)
    # the bad file does not linger in the uploader for the next try
    expect(page.get_by_test_id("stFileUploader").get_by_text("merchants.csv")).to_have_count(0)
    # the book in use did not change
    _open(page, streamlit_server, "data")
    expect(page.get_by_text(small_book.fingerprint)).to_be_visible()


def test_a_reload_stays_signed_in_until_logout(page, streamlit_server):
    _open(page, streamlit_server, "data")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "cb_session"]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    page.reload()  # a new connection: the cookie's session, no login form
    expect(page.locator("h1", has_text="데이터")).to_be_visible()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    assert page.get_by_label("비밀번호", exact=True).count() == 0

    page.get_by_role("button", name="로그아웃").click()
    expect(page.get_by_role("button", name="로그인")).to_be_visible()
    # logout sends the browser through the cookie route, which deletes the HttpOnly cookie: wait for that
    # navigation to end (a reload during it is aborted) and for the cookie to be gone
    for _ in range(300):
        if not [c for c in page.context.cookies() if c["name"] == "cb_session"]:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the session cookie was not deleted after logout")
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="로그인")).to_be_visible()
    page.reload()  # signed out for good: the old token is ended in the store and the cookie is gone
    expect(page.get_by_role("button", name="로그인")).to_be_visible()
    assert page.get_by_role("button", name="로그아웃").count() == 0

    page.context.add_cookies([cookie])  # replaying the ended token
    page.reload()
    expect(page.get_by_role("button", name="로그인")).to_be_visible()
    assert page.get_by_role("button", name="로그아웃").count() == 0
