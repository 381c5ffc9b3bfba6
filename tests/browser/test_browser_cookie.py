"""The session cookie is HttpOnly: set by server.py's HTTP route from a one-time login ticket, never
by a page script, so ``document.cookie`` does not show the token while a reload stays signed in."""
from __future__ import annotations

import re

import urllib.error
import urllib.parse
import urllib.request

from playwright.sync_api import expect

from tests.support.app import browser_open


def test_page_scripts_never_see_the_token_and_a_reload_stays_signed_in(page, streamlit_server):
    browser_open(page, streamlit_server, "data")  # the login form, then the route, then the page asked for
    expect(page.locator("h1", has_text="데이터")).to_be_visible()
    [cookie] = [c for c in page.context.cookies() if c["name"] == "cb_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http here; over HTTPS it is Secure (tests/browser/test_browser_proxy.py)
    seen_by_scripts = page.evaluate("document.cookie")
    assert "cb_session" not in seen_by_scripts and cookie["value"] not in seen_by_scripts
    page.reload()
    expect(page.locator("h1", has_text="데이터")).to_be_visible()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()

    page.get_by_role("button", name="로그아웃").click()
    expect(page.get_by_role("button", name="로그인")).to_be_visible()
    for _ in range(50):  # the logout sends the browser to the route, which deletes the cookie
        if not [c for c in page.context.cookies() if c["name"] == "cb_session"]:
            break
        page.wait_for_timeout(200)
    assert not [c for c in page.context.cookies() if c["name"] == "cb_session"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _route(base: str, query: str) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(f"{base}/cb/session?{query}", timeout=10) as r:
            return r.status, r.headers.get("Location", ""), r.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", ""), e.headers.get("Set-Cookie", "")


def test_the_route_sets_nothing_for_a_bad_ticket_and_redirects_only_within_the_site(streamlit_server):
    import server
    from ui import auth

    assert (server.COOKIE, server.SESSION_ROUTE) == (auth.COOKIE, auth.SESSION_ROUTE)
    status, location, cookie = _route(streamlit_server, "ticket=forged&next=/data")
    assert (status, location, cookie) == (303, "/data", "")
    for outside in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil"):
        status, location, _ = _route(streamlit_server, urllib.parse.urlencode({"ticket": "x", "next": outside}))
        assert (status, location) == (303, "/"), outside


def test_the_login_lands_on_the_page_asked_for_with_its_query(page, streamlit_server):
    """The route returns to the page asked for (a reload): with its query for a role with several pages,
    at ``/`` for a role's only page (any other path would open Streamlit's "page not found" dialog)."""
    browser_open(page, streamlit_server, "merchant_review?merchant=NO-SUCH-ID", user="lee")
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    # the page asked for, with its query (the language the app keeps in the query may follow it)
    assert re.search(r"/merchant_review\?merchant=NO-SUCH-ID(&lang=ko)?$", page.url), page.url
    browser_open(page, streamlit_server, "partner_view", user="park")
    expect(page.locator("h1").first).to_be_visible()
    page.wait_for_timeout(1_000)
    assert page.get_by_role("dialog").count() == 0
