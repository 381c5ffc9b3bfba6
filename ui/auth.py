"""Login before anything else; the session lives in the store.

The session token is kept in session state and in an ``HttpOnly`` cookie, so a reload or a new tab of
the same browser stays signed in while page scripts cannot read the token. A script cannot set such a
cookie: after the right password the login form asks the store for a one-time ticket and sends the
browser to ``server.py``'s HTTP route (:data:`SESSION_ROUTE`), which redeems it, sets the cookie and
comes back to the page asked for. The store keeps only the token's sha256, and the server ends a
session after ``session_timeout_minutes`` without activity or on logout, whatever the browser still
holds.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st

from cb_core.store import LoginError, User
from ui.cache import store
from ui.errors import engine_errors
from ui.labels import tr
from ui.session import language_switch, sign_in, sign_out, token as session_token

log = logging.getLogger(__name__)


_HAS_USERS: set[str] = set()  # store URLs known to have users (checked once per server process)


def _first_start_admin() -> None:
    """A fresh install gets an admin with a random password, printed once to the server console."""
    if store().url in _HAS_USERS:
        return
    created = store().ensure_first_admin()
    _HAS_USERS.add(store().url)
    if created is not None:
        user, password = created
        message = (f"\n  Merchant CB: first start created user '{user.name}' (admin) with password: {password}\n"
                   "  It is shown only this once; change it with: python -m cb_core users reset-password admin\n")
        print(message, flush=True)  # the console of `make run`
        log.warning("first start: created admin user %r", user.name)


COOKIE = "cb_session"
SESSION_ROUTE = "/cb/session"  # server.py: redeems a ticket into the HttpOnly cookie, or ends it
# Sends the browser (the top page) to the session route, with `next` = the page it is on.
_GO_JS = """
export default function(component) {
  const { data } = component;
  if (!data || !data.route) return;
  let here = window.location;
  try { here = window.top.location; } catch (e) {}
  const query = new URLSearchParams(data.params || {});
  query.set("next", data.next || here.pathname + here.search);
  here.replace(data.route + "?" + query.toString());
}
"""
_go = st.components.v2.component("cb_session_route", js=_GO_JS)


def _to_session_route(next_path: str | None = None, **params: str) -> None:
    """Send the browser to the session route with ``params``; it comes back to ``next_path`` (default:
    the page it is on)."""
    _go(data={"route": SESSION_ROUTE, "params": params, "next": next_path or ""},
        key="cb_session_route_" + "_".join(params))


def _landing(asked: Any, role: str) -> str:
    """Where a fresh login lands: the page asked for (with its query) when ``role`` may see it among
    several pages, else ``/`` (a role's only page, or the first, is served at ``/``; another path
    would open Streamlit's "page not found" dialog after the reload)."""
    from urllib.parse import urlencode

    from ui.nav import pages_for

    own = [Path(p.file).stem for p in pages_for(role)]
    path = getattr(asked, "url_path", "") or ""
    if len(own) < 2 or path not in own[1:]:
        return "/"
    try:
        query = urlencode(st.query_params.to_dict())
    except Exception:  # no browser request (bare mode)
        query = ""
    return f"/{path}" + (f"?{query}" if query else "")


def keep_cookie() -> None:
    """After a logout, send the browser to the session route to delete the cookie (a script cannot: it
    is HttpOnly), and back to the login form."""
    if st.session_state.pop("_clear_cookie", False):
        _to_session_route(end="1")


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser request (bare mode)
        return None
    return value if isinstance(value, str) and value else None  # AppTest gives a mock object


def _user_agent() -> str | None:
    """The browser's User-Agent: a session token only opens the app in the browser it was issued to."""
    try:
        value = st.context.headers.get("User-Agent")
    except Exception:  # no browser request (bare mode)
        return None
    return value if isinstance(value, str) and value else None  # AppTest gives a mock object


def _client() -> str:
    """The client address logins are throttled by (behind a proxy: set it to forward the real one)."""
    try:
        address = st.context.ip_address
    except Exception:
        address = None
    return address if isinstance(address, str) and address else "localhost"


def _remember(user: User, token: str) -> None:
    sign_in(user.name, user.role, user.partner, token)


def logout() -> None:
    store().end_session(session_token())
    sign_out()
    # The cookie this connection was opened with stays readable until a reload: never use it again.
    st.session_state["_clear_cookie"] = True
    st.session_state["_cookie_spent"] = _cookie_token()


def require_login(all_pages: list | None = None) -> User:
    """The signed-in user; otherwise render the login form and stop the run.

    ``all_pages`` (the app's ``st.Page`` list) is registered, hidden, while the login form shows, so
    a deep link survives the login: after it the user lands on the page asked for, if the role
    may see it.
    """
    with engine_errors():
        _first_start_admin()
        token = session_token()
        if token:
            user = store().session_user(token, user_agent=_user_agent())
            if user is not None:
                _remember(user, token)
                return user
            sign_out()
            # A dead token in the cookie is harmless (the store refuses it); it is not read again, and
            # not deleted now: that would reload the page and lose this warning.
            st.session_state["_cookie_spent"] = token
            st.warning(tr("login_expired"))
        else:
            token = _cookie_token()
            if token and token != st.session_state.get("_cookie_spent"):
                user = store().session_user(token, user_agent=_user_agent())  # a reload or another tab
                if user is not None:
                    _remember(user, token)
                    return user
                st.session_state["_cookie_spent"] = token  # refused: not read again (the next login replaces it)
    asked = st.navigation(all_pages, position="hidden") if all_pages else None
    keep_cookie()
    language_switch()
    st.title(tr("login_title"))
    with st.form("login"):
        name = st.text_input(tr("login_user"), key="login_user")
        password = st.text_input(tr("login_password"), type="password", key="login_password")
        submitted = st.form_submit_button(tr("login_submit"), type="primary")
    if submitted:
        with engine_errors():
            try:
                user = store().authenticate(name.strip(), password, client=_client())
            except LoginError as exc:  # one answer for unknown names and wrong passwords, in the user's language
                st.error(tr(exc.key, **exc.params))
                st.stop()
            # The session starts when the browser redeems this ticket at the session route, which sets the
            # HttpOnly cookie; the page asked for opens after it, signed in from the cookie.
            ticket = store().issue_login_ticket(user, user_agent=_user_agent())
        _to_session_route(_landing(asked, user.role), ticket=ticket)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises
