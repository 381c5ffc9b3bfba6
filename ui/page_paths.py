"""Addresses that name no page the browser may open.

Streamlit answers any path with the app and, when the path is not one of the navigation's pages,
opens its own dialog in English ("Page not found ... no corresponding file was found in the app's
pages/ directory"), whatever the user's language. ``server.py`` sends such a request to the first
page instead (:func:`redirect_for`), with the path asked for in ``?missing=``, and the app says in the
user's language that the page does not exist (:func:`take_missing`).

Which paths are pages depends on the role: a role's first page is served at ``/``, its other pages
at their file names (``/merchant_review``); before a login the login form registers every page, the
first at ``/``.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from ui.nav import PAGES, pages_for

#: The query parameter that carries a path that is not a page.
MISSING = "missing"
# one path segment as page file names are written; anything else (files, /_stcore/..., /cb/...) is not ours
_SEGMENT = re.compile(r"^/([a-z][a-z0-9_]*)/?$")


def _page_paths(role: str | None) -> set[str]:
    pages = pages_for(role) if role else list(PAGES)
    return {Path(p.file).stem for p in pages[1:]}


def page_segment(path: str) -> str | None:
    """The page name ``path`` asks for (``/merchant_review`` -> ``merchant_review``); None for ``/`` and
    for anything that is not written like a page (files, ``/_stcore/...``, ``/cb/session``)."""
    match = _SEGMENT.match(path)
    return match.group(1) if match else None


def redirect_for(path: str, query: str, role: str | None) -> str | None:
    """Where to send a browser that asked for ``path`` (with ``query``): ``/?missing=...`` plus the
    query when ``path`` looks like a page's but is none the role (None: not signed in) may open; None
    when the request is left to Streamlit."""
    segment = page_segment(path)
    if segment is None or segment in _page_paths(role):
        return None
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != MISSING]
    return "/?" + urlencode([(MISSING, segment), *params])


def take_missing(params) -> str | None:
    """The path a redirect said was missing (``?missing=``), removed from ``params`` (``st.query_params``)."""
    value = params.get(MISSING)
    if value is None:
        return None
    del params[MISSING]
    return str(value)[:100]
