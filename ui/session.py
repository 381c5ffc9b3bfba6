"""Session state: the keys kept per browser session, the language, who is signed in and what they may do.

Every session key the app reads or writes for a user is named here; what a role may do is
asked of :mod:`cb_core.access` (:func:`can`), never compared with role names.
"""
from __future__ import annotations

import streamlit as st

from cb_core import access

LANG_KEY = "lang"
#: The query parameter that carries the language across reloads (``?lang=en``).
LANG_PARAM = "lang"
_LANG_WIDGET = "lang_radio"
TOKEN_KEY, USER_KEY, ROLE_KEY, PARTNER_KEY = "token", "user", "role", "partner"
#: What a sign-in puts in the session (and a sign-out removes).
SIGN_IN_KEYS: tuple[str, ...] = (TOKEN_KEY, USER_KEY, ROLE_KEY, PARTNER_KEY)
LANGUAGES: dict[str, str] = {"ko": "한국어", "en": "English"}


def lang() -> str:
    """The session's language: the session's choice, else the address's ``?lang=`` (so a reload or a
    shared link keeps it), else ``ko``."""
    chosen = st.session_state.get(LANG_KEY)
    if chosen is None:
        asked = st.query_params.get(LANG_PARAM)
        chosen = asked if asked in LANGUAGES else "ko"
        st.session_state[LANG_KEY] = chosen
    return chosen


#: Keys of pickers whose option labels are in the session's language (:func:`translated_picker`).
_TRANSLATED_PICKERS: set[str] = set()


def translated_picker(key: str, default: object = None) -> str:
    """``key``, for a keyed selectbox whose ``format_func`` labels its options in the session's language. A
    keyed selectbox keeps drawing the label it drew for its choice when only the labels change
    (streamlit/streamlit#13788): a language switch sets such a choice again, which redraws it. ``default``:
    the first choice, set here (such a picker may not pass ``index=``: Streamlit warns of a default value also
    set through the Session State API)."""
    _TRANSLATED_PICKERS.add(key)
    if default is not None:
        st.session_state.setdefault(key, default)
    return key


def _choose_language() -> None:
    st.session_state[LANG_KEY] = st.session_state[_LANG_WIDGET]
    st.query_params[LANG_PARAM] = st.session_state[_LANG_WIDGET]
    for key in _TRANSLATED_PICKERS & set(st.session_state.keys()):
        st.session_state[key] = st.session_state[key]  # the same choice, sent again: its label is redrawn


def language_switch() -> None:
    """한국어 / English in the sidebar (call after ``st.navigation``: entrypoint widgets made before
    it reset on every page run). The choice is also kept in the address (``?lang=en``): a reload
    starts a new session, which reads it back."""
    # The choice lives in a plain session key: a widget's own state is dropped by any run that does
    # not draw it (an error page, e.g. while the database is down), and the language with it.
    st.session_state[_LANG_WIDGET] = lang()
    if st.query_params.get(LANG_PARAM) != lang():  # a page switch drops the query string: put it back
        st.query_params[LANG_PARAM] = lang()
    with st.sidebar:
        st.radio("Language / 언어", options=list(LANGUAGES), key=_LANG_WIDGET, horizontal=True,
                 format_func=LANGUAGES.get, on_change=_choose_language)


def token() -> str | None:
    """The signed-in session's token (None before a sign-in)."""
    return st.session_state.get(TOKEN_KEY)


def role() -> str:
    """The signed-in user's role."""
    return st.session_state.get(ROLE_KEY, "")


def user_name() -> str:
    """The signed-in user's name (recorded with every decision, draft and audit entry)."""
    return st.session_state.get(USER_KEY, "")


def partner() -> str | None:
    """The partner a partner login belongs to (None for other logins)."""
    return st.session_state.get(PARTNER_KEY)


def can(permission: str) -> bool:
    """Whether the signed-in user's role has ``permission`` (:data:`cb_core.access.PERMISSION_HELP`)."""
    return access.can(role(), permission)


def sign_in(name: str, user_role: str, user_partner: str | None, session_token: str) -> None:
    """Keep the signed-in user in the session."""
    st.session_state.update({TOKEN_KEY: session_token, USER_KEY: name, ROLE_KEY: user_role,
                             PARTNER_KEY: user_partner})


def sign_out() -> None:
    """Forget the signed-in user (the language stays)."""
    for key in SIGN_IN_KEYS:
        st.session_state.pop(key, None)
