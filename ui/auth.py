"""Login before anything else; the session lives in the store (token kept in session state)."""
from __future__ import annotations

import logging

import streamlit as st

from cb_core.store import User
from ui.common import engine_errors, language_switch, tr
from ui.engine import store

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


def _remember(user: User, token: str) -> None:
    st.session_state.update({"token": token, "user": user.name, "role": user.role, "partner": user.partner})


def logout() -> None:
    store().end_session(st.session_state.get("token"))
    for key in ("token", "user", "role", "partner"):
        st.session_state.pop(key, None)


def require_login(all_pages: list | None = None) -> User:
    """The signed-in user; otherwise render the login form and stop the run.

    ``all_pages`` (the app's ``st.Page`` list) is registered, hidden, while the login form shows, so
    a deep link survives the login: after it the user lands on the page asked for, if the role
    may see it.
    """
    with engine_errors():
        _first_start_admin()
        token = st.session_state.get("token")
        if token:
            user = store().session_user(token)
            if user is not None:
                _remember(user, token)
                return user
            for key in ("token", "user", "role", "partner"):
                st.session_state.pop(key, None)
            st.warning(tr("login_expired"))
    if all_pages:
        st.navigation(all_pages, position="hidden")
    language_switch()
    st.title(tr("login_title"))
    with st.form("login"):
        name = st.text_input(tr("login_user"), key="login_user")
        password = st.text_input(tr("login_password"), type="password", key="login_password")
        submitted = st.form_submit_button(tr("login_submit"), type="primary")
    if submitted:
        with engine_errors():
            user = store().authenticate(name.strip(), password)
            _remember(user, store().start_session(user))
        st.rerun()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises
