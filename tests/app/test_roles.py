"""Roles: navigation per role and by URL (browser), lockout, masking of personal data on every page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cb_core.i18n import t
from tests.support.app import PASSWORD, USERS, app_as, browser_open
from ui.nav import pages_for


def _rendered_text(app) -> str:
    """Every string an AppTest run rendered: text elements, metrics, tables and dataframes."""
    parts: list[str] = []
    for kind in ("markdown", "title", "header", "subheader", "caption", "text", "code", "info", "warning",
                 "error", "success"):
        parts += [str(e.value) for e in getattr(app, kind)]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    for frame in [*app.dataframe, *app.table]:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


@pytest.mark.parametrize("name", ["lee", "park"])  # an officer and a partner
def test_no_personal_data_on_any_page_for_officers_and_partners(app_users, small_book, name):
    app = app_as(name, app_users)
    role = USERS[name][0]
    owners = set(small_book.merchants["owner_name"])
    reg_nos = set(small_book.merchants["business_reg_no"])
    for page in pages_for(role):
        app.switch_page(page.file).run()
        assert not app.exception, (page.file, app.exception)
        text = _rendered_text(app)
        assert text.strip(), page.file
        leaked = [v for v in reg_nos if v in text] + [v for v in owners if len(v) >= 2 and f" {v}" in f" {text}"]
        assert not leaked, f"{page.file} shows personal data to {role}: {leaked[:3]}"


def test_admin_sees_personal_data(app_users, small_book):
    app = app_as("admin", app_users)
    app.switch_page("views/merchant_review.py").run()
    assert small_book.merchants["business_reg_no"].iloc[0] in _rendered_text(app)


def test_lockout_after_repeated_failed_logins(app_users):
    from cb_core.errors import AuthError

    app_users.add_user("victim", "officer", password=PASSWORD) if app_users.get_user("victim") is None else None
    for _ in range(5):
        with pytest.raises(AuthError):
            app_users.authenticate("victim", "wrong")
    with pytest.raises(AuthError, match="locked"):
        app_users.authenticate("victim", PASSWORD)  # even the right password, while locked


@pytest.mark.browser
@pytest.mark.parametrize("name", list(USERS))
def test_navigation_shows_only_the_role_pages_and_urls_do_not_bypass_it(page, streamlit_server, name):
    role = USERS[name][0]
    allowed = pages_for(role)
    browser_open(page, streamlit_server, user=name)
    nav = page.get_by_test_id("stSidebarNav")
    if len(allowed) == 1:  # Streamlit shows no navigation for a single page
        expect(nav).to_have_count(0)
        expect(page.locator("h1", has_text=t(allowed[0].title_key, "ko"))).to_be_visible()
    else:
        expect(nav.get_by_role("link")).to_have_count(len(allowed))
        for p in allowed:
            expect(nav.get_by_text(t(p.title_key, "ko"), exact=True)).to_be_visible()
    forbidden = [p for p in ("data", "cutoffs", "merchant_review") if p not in {a.file[6:-3] for a in allowed}]
    for path in forbidden:
        browser_open(page, streamlit_server, path, user=name)
        title = t(next(p.title_key for p in pages_for("admin") if p.file == f"views/{path}.py"), "ko")
        expect(page.locator("h1").first).to_be_visible()
        expect(page.locator("h1", has_text=title)).to_have_count(0)


@pytest.mark.browser
def test_wrong_password_is_refused_in_the_browser(page, streamlit_server):
    page.goto(streamlit_server)
    page.get_by_label("사용자 이름").fill("kim")
    page.get_by_label("비밀번호", exact=True).fill("not the password")
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_text(t("login_wrong", "ko"), exact=True)).to_be_visible()  # in the page's language
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    page.get_by_label("사용자 이름").fill("nobody-here")  # an unknown name gets the very same answer
    page.get_by_label("비밀번호", exact=True).fill("not the password")
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_text(t("login_wrong", "ko"), exact=True)).to_be_visible()
    expect(page.get_by_text("locked", exact=False)).to_have_count(0)


@pytest.mark.parametrize("name", ["kim", "park"])  # a role that sees the landing page, and one that does not
def test_the_login_form_signs_the_session_in_and_hands_its_own_token_to_the_cookie(app_users, name):
    """No reload: the run after the password is the role's first page, signed in; the ticket waiting for
    the background fetch gives back exactly the session's token (the cookie's), once."""
    from streamlit.testing.v1 import AppTest

    from tests.support.app import ROOT
    from ui import handoff

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    assert not app.exception, app.exception
    app.text_input(key="login_user").input(name)
    app.text_input(key="login_password").input(PASSWORD)
    app.button[0].click().run()  # the form's submit button
    assert not app.exception, app.exception
    first = pages_for(USERS[name][0])[0]
    assert [h.value for h in app.title][:1] == [t(first.title_key, "ko")]
    assert not [w for w in app.text_input if w.key == "login_password"]  # the form is gone
    token = app.session_state["token"]
    assert app_users.session_user(token).name == name and app.session_state["role"] == USERS[name][0]
    ticket = app.session_state["_cookie_ticket"]
    assert handoff.pending(ticket) and ticket != token
    assert handoff.redeem(ticket, "another browser") is None  # AppTest sends no User-Agent: bound to none
    app.session_state["_cookie_ticket"] = ticket = handoff.issue(token, None)
    assert handoff.redeem(ticket, None) == token and handoff.redeem(ticket, None) is None
    app.run()  # redeemed: no longer drawn, and forgotten
    assert not app.exception, app.exception
    assert "_cookie_ticket" not in app.session_state
