"""The session cookie is HttpOnly: the login signs the tab in at once (no reload) and hands the same
token to server.py's route with a one-time ticket posted by a background fetch, which answers with the
cookie; page scripts never see the token (``document.cookie``) while a reload stays signed in."""
from __future__ import annotations

import re

import urllib.error
import urllib.parse
import urllib.request

from playwright.sync_api import expect

from tests.support.app import PASSWORD, browser_open, session_cookie


def test_page_scripts_never_see_the_token_and_a_reload_stays_signed_in(page, streamlit_server):
    browser_open(page, streamlit_server, "data")  # the login form, then the page asked for; the fetch sets the cookie
    expect(page.locator("h1", has_text="데이터")).to_be_visible()
    cookie = session_cookie(page)
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


def _login_form(page, base: str, path: str = "", user: str = "admin") -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/{path}")
    page.get_by_label("사용자 이름").fill(user)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)


def test_the_login_does_not_reload_the_page_and_the_cookie_holds_the_tabs_session(page, streamlit_server, app_users):
    posts: list = []
    page.on("request", lambda r: posts.append(r) if r.url.endswith("/cb/session") else None)
    chunks: list[str] = []
    page.on("request", lambda r: chunks.append(r.url.rsplit("/", 1)[-1]) if "/static/js/" in r.url else None)
    _login_form(page, streamlit_server, "data")
    page.evaluate("window.__marker = 1")
    for _ in range(100):  # the form preloads the landing page's chart and table modules while the user types
        if {c.split(".")[0] for c in chunks} >= {"PlotlyChart", "DataFrame"}:
            break
        page.wait_for_timeout(100)
    assert {c.split(".")[0] for c in chunks} >= {"PlotlyChart", "DataFrame"}, chunks
    page.get_by_role("button", name="로그인").click()
    expect(page.locator("h1", has_text="데이터")).to_be_visible()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    assert page.evaluate("window.__marker") == 1  # the same document: Streamlit and its scripts not loaded again
    cookie = session_cookie(page)
    assert page.evaluate("window.__marker") == 1  # the cookie came without a navigation too
    [post] = posts  # one background POST, the ticket in its body, not in the address
    assert post.method == "POST" and post.url == f"{streamlit_server}/cb/session" and "ticket=" in post.post_data
    ticket = urllib.parse.parse_qs(post.post_data)["ticket"][0]
    assert len(ticket) == 43 and ticket not in post.url and post.response().status == 204
    user_agent = page.evaluate("navigator.userAgent")
    assert app_users.session_user(cookie["value"], user_agent=user_agent).name == "admin"

    page.reload()  # a new document and session, signed in by the cookie the fetch set
    expect(page.locator("h1", has_text="데이터")).to_be_visible()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    assert page.evaluate("window.__marker") is None
    assert page.get_by_label("비밀번호", exact=True).count() == 0

    # one session per login: logging out in the tab ends the very session the cookie holds
    page.get_by_role("button", name="로그아웃").click()
    expect(page.get_by_role("button", name="로그인")).to_be_visible()
    assert app_users.session_user(cookie["value"], user_agent=user_agent) is None
    assert _post(streamlit_server, ticket, user_agent)[:2] == (403, "")  # a spent ticket gives nothing


def _post(base: str, ticket: str | None, user_agent: str, body: bytes | None = None,
          headers: dict | None = None) -> tuple[int, str, str]:
    data = body if body is not None else urllib.parse.urlencode({"ticket": ticket}).encode()
    request = urllib.request.Request(f"{base}/cb/session", data=data, method="POST",
                                     headers={"User-Agent": user_agent,
                                              "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers.get("Set-Cookie", "") or "", r.headers.get("Cache-Control", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Set-Cookie", "") or "", e.headers.get("Cache-Control", "")


def _held_ticket(page, base: str) -> tuple[str, str]:
    """Sign in with the browser's fetch to the route blocked: (the ticket it tried to post, its User-Agent)."""
    held: list[str] = []

    def hold(route) -> None:
        held.append(urllib.parse.parse_qs(route.request.post_data or "").get("ticket", [""])[0])
        route.abort()

    page.route("**/cb/session", hold)
    _login_form(page, base)
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held and len(held[0]) == 43, held
    return held[0], page.evaluate("navigator.userAgent")


def test_a_failed_fetch_keeps_the_tab_signed_in_and_a_reload_shows_the_login_form(page, streamlit_server):
    _held_ticket(page, streamlit_server)
    expect(page.locator("h1").first).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link").nth(1).click()  # this tab goes on signed in
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "cb_session"]
    page.unroute("**/cb/session")
    page.reload()
    expect(page.get_by_role("button", name="로그인")).to_be_visible()


def test_the_route_refuses_another_browser_a_reused_a_forged_or_a_cross_site_ticket(page, streamlit_server,
                                                                                 app_users):
    ticket, user_agent = _held_ticket(page, streamlit_server)
    assert _post(streamlit_server, ticket, user_agent, headers={"Sec-Fetch-Site": "cross-site"}) == (403, "", "no-store")
    status, cookie, _ = _post(streamlit_server, ticket, "curl/8.5.0")  # the ticket, from another User-Agent
    assert (status, cookie) == (403, "")
    assert _post(streamlit_server, ticket, user_agent)[:2] == (403, "")  # used up by the failed try

    ticket, user_agent = _held_ticket(page, streamlit_server)
    status, cookie, cache = _post(streamlit_server, ticket, user_agent)  # the browser's own UA: the cookie
    assert (status, cache) == (204, "no-store")
    assert re.match(r"cb_session=[\w-]{43};", cookie), cookie
    for part in ("HttpOnly", "Path=/", "SameSite=strict"):
        assert part in cookie, cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert app_users.session_user(token, user_agent=user_agent).name == "admin"
    assert _post(streamlit_server, ticket, user_agent)[:2] == (403, "")  # once

    for body in (b"ticket=forged", b"", b"ticket=a&ticket=b", b"x" * 300, "ticket=é".encode()):
        assert _post(streamlit_server, None, user_agent, body=body)[:2] == (403, ""), body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _route(base: str, query: str) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(f"{base}/cb/session?{query}", timeout=10) as r:
            return r.status, r.headers.get("Location", ""), r.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", ""), e.headers.get("Set-Cookie", "") or ""


def test_the_get_route_only_ends_the_cookie_and_redirects_only_within_the_site(streamlit_server):
    import server
    from ui import auth

    assert (server.COOKIE, server.SESSION_ROUTE) == (auth.COOKIE, auth.SESSION_ROUTE)
    status, location, cookie = _route(streamlit_server, "ticket=forged&next=/data")
    assert (status, location, cookie) == (303, "/data", "")  # a ticket in an address sets nothing
    status, location, cookie = _route(streamlit_server, "end=1&next=/data")
    assert (status, location) == (303, "/data") and cookie.startswith('cb_session="";') and "Max-Age=0" in cookie
    for outside in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil"):
        status, location, _ = _route(streamlit_server, urllib.parse.urlencode({"end": "1", "next": outside}))
        assert (status, location) == (303, "/"), outside


def test_the_login_lands_on_the_page_asked_for_with_its_query(page, streamlit_server):
    """A deep link survives the login: the page asked for, with its query, for a role that may see it;
    a role's only page without any "page not found" dialog."""
    browser_open(page, streamlit_server, "merchant_review?merchant=NO-SUCH-ID", user="lee")
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    # the page asked for, with its query (the language the app keeps in the query may follow it)
    assert re.search(r"/merchant_review\?merchant=NO-SUCH-ID(&lang=ko)?$", page.url), page.url
    browser_open(page, streamlit_server, "partner_view", user="park")
    expect(page.locator("h1").first).to_be_visible()
    page.wait_for_timeout(1_000)
    assert page.get_by_role("dialog").count() == 0
