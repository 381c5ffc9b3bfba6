"""Login before anything else; the session lives in the store.

The session token is kept in session state and in an ``HttpOnly`` cookie, so a reload or a new tab of
the same browser stays signed in while page scripts cannot read the token. After the right password
the login form starts the session itself (``Store.start_session``, bound to the browser's User-Agent),
keeps the token in session state and reruns into the page asked for: no reload, so the browser does not
load and start Streamlit again. A script cannot set an HttpOnly cookie, so it hands the same token over
(:mod:`ui.handoff`: an in-memory, one-time ticket of a minute, bound to the User-Agent) and a tiny
component posts the ticket with a background ``fetch()`` to ``server.py``'s route
(:data:`SESSION_ROUTE`), which answers with the cookie. One session per login: the cookie holds the
token this tab holds, and logout ends it for both.

While the form is shown, the same component has the browser import the landing page's chart and table
modules (:data:`PRELOAD`), so the page after the login does not wait for plotly's 4.7 MB module.

If that fetch fails (network, a server restart meanwhile), this tab stays signed in but no cookie is
set: a reload or a new tab then shows the login form. Logout still sends the browser (a navigation) to
the route to delete the cookie, and back to the login form. The store keeps only the token's sha256,
and the server ends a session after ``session_timeout_minutes`` without activity or on logout, whatever
the browser still holds.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st

from cb_core.store import LoginError, User
from ui import handoff
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
SESSION_ROUTE = "/cb/session"  # server.py: POST redeems a handoff ticket into the HttpOnly cookie; GET ?end=1 ends it
#: With ``data.preload``: imports those of Streamlit's lazily loaded element modules (by name, e.g.
#: ``PlotlyChart``, found in Streamlit's own entry script) while the login form is shown, so the
#: landing page after the login does not wait for them (best effort: a Streamlit whose bundle names
#: them otherwise gets nothing preloaded, and nothing breaks). With ``data.post``: a background fetch
#: that hands the ticket to the route (which answers 204 with the cookie; no navigation, the ticket
#: stays out of URLs and logs; a repeat of a spent ticket gets 403 and changes nothing). Otherwise:
#: sends the browser (the top page) to the route, which comes back to ``next`` (default: the page it
#: is on).
_SESSION_JS = """
export default function(component) {
  const { data } = component;
  if (!data) return;
  if (data.preload) {
    const entry = document.querySelector('script[type="module"][src*="/static/js/index."]');
    if (!entry) return;
    fetch(entry.src).then((r) => r.text()).then((text) => {
      for (const name of data.preload) {
        const found = text.match(new RegExp("[./](" + name + "[.][A-Za-z0-9_-]+[.]js)"));
        if (found) import(new URL(found[1], entry.src).href).catch(() => {});
      }
    }).catch(() => {});
    return;
  }
  if (!data.route) return;
  if (data.post) {
    fetch(data.route, {method: "POST", credentials: "same-origin", cache: "no-store",
                       headers: {"Content-Type": "application/x-www-form-urlencoded"},
                       body: new URLSearchParams(data.post).toString()}).catch(() => {});
    return;
  }
  let here = window.location;
  try { here = window.top.location; } catch (e) {}
  const query = new URLSearchParams(data.params || {});
  query.set("next", data.next || here.pathname + here.search);
  here.replace(data.route + "?" + query.toString());
}
"""
_session_js = st.components.v2.component("cb_session_route", js=_SESSION_JS)
_TICKET_KEY = "_cookie_ticket"  # the handoff ticket waiting for its fetch (ui.handoff)
#: Element modules every landing page needs (its charts and tables): loaded during the login form.
PRELOAD = ("PlotlyChart", "DataFrame")


def _to_session_route(next_path: str | None = None, **params: str) -> None:
    """Send the browser to the session route with ``params``; it comes back to ``next_path`` (default:
    the page it is on)."""
    _session_js(data={"route": SESSION_ROUTE, "params": params, "next": next_path or ""},
                key="cb_session_route_" + "_".join(params))


def _post_ticket(ticket: str) -> None:
    """Post the handoff ticket to the session route in the background (it sets the cookie)."""
    _session_js(data={"route": SESSION_ROUTE, "post": {"ticket": ticket}}, key="cb_session_cookie")


def _landing(asked: Any, role: str) -> str | None:
    """Where a fresh login lands: ``None`` to stay on the page asked for (``asked``, from the hidden
    navigation of all pages), with its query, when ``role`` may see it; else the file of the role's
    first page (served at ``/``), to switch to without the query."""
    from ui.nav import PAGES, pages_for

    own = pages_for(role)
    path = getattr(asked, "url_path", None)
    stem = path or Path(PAGES[0].file).stem  # the hidden navigation serves PAGES[0] at ``/``
    if path is None or stem in {Path(p.file).stem for p in own}:
        return None
    return own[0].file if own else None


def keep_cookie() -> None:
    """Bring the browser's HttpOnly cookie in line with the session (a script cannot set it): after a
    login, while its handoff ticket waits, post it to the session route in the background; after a
    logout, send the browser to the route to delete the cookie, and back to the login form."""
    ticket = st.session_state.get(_TICKET_KEY)
    if ticket:
        if handoff.pending(ticket):  # drawn again on each run until redeemed (or expired)
            _post_ticket(ticket)
        else:
            st.session_state.pop(_TICKET_KEY, None)
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
    handoff.discard(st.session_state.pop(_TICKET_KEY, None))  # a cookie not set yet never will be
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
    _session_js(data={"preload": list(PRELOAD)}, key="cb_preload")
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
            token = store().start_session(user, user_agent=_user_agent())
        _remember(user, token)
        # The same token goes to the HttpOnly cookie through a one-time ticket that keep_cookie() posts
        # to server.py's route in the background: no reload, the page asked for opens at once.
        handoff.discard(st.session_state.get(_TICKET_KEY))
        st.session_state[_TICKET_KEY] = handoff.issue(token, _user_agent())
        landing = _landing(asked, user.role)
        if landing is not None:
            st.switch_page(landing)
        st.rerun()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises
