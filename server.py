"""Merchant CB served as an ``st.App`` (``streamlit run server.py``; ``make run`` and the browser tests).

The pages are ``app.py``; this file adds one HTTP route and wraps Streamlit's server with what its
configuration cannot close.

``GET /cb/session?ticket=...&next=/page`` (:data:`SESSION_ROUTE`): the login form sends the browser
here with a one-time ticket (``Store.issue_login_ticket``, a minute, bound to the User-Agent); the
route redeems it for a session token and sets it as the ``cb_session`` cookie, ``HttpOnly;
SameSite=Strict; Path=/`` (and ``Secure`` over HTTPS), then redirects to ``next`` (a path of this
site only). Page scripts never see the token (``document.cookie``); the websocket handshake sends it,
and ``st.context.cookies`` reads it. ``?end=1`` deletes the cookie (after a logout, or for a token
the store refused).

On start (its ``lifespan``), the caches the pages need for the book and model in use are warmed in
a background thread (:mod:`ui.warm`), unless ``CB_WARM_UP=0`` (the browser-test servers).

A page request (``Accept: text/html``) for a path that is no page its user may open is sent to the
first page with ``?missing=`` (:mod:`ui.page_paths`), where the app says so in the user's language,
instead of Streamlit's English "Page not found" dialog.

What no Streamlit 1.67 option closes:

- ``/_stcore/metrics`` answers 404: it told anyone cache names and session counts.
- A ``clear_cache`` message on the websocket is dropped (and logged): it cleared every user's
  ``st.cache_*`` at once, before any login, a cheap denial of service. The app's own toolbar
  (``client.toolbarMode = "minimal"``) never sends it.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

log = logging.getLogger("merchant_cb.server")

SESSION_ROUTE = "/cb/session"
COOKIE = "cb_session"  # ui.auth.COOKIE (tests/browser/test_browser_cookie.py checks they agree)
COOKIE_MAX_AGE = 12 * 3600  # the store ends an idle session long before (session_timeout_minutes)

CLOSED_PATHS = ("/_stcore/metrics",)
STREAM_PATH = "/_stcore/stream"


def _is_clear_cache(frame: bytes) -> bool:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    try:
        msg.ParseFromString(frame)
    except Exception:  # Streamlit closes the connection on a bad frame itself
        return False
    return msg.WhichOneof("type") == "clear_cache"


def _not_a_page(scope: dict, path: str) -> str | None:
    """Where to send a browser's page request for a path that is no page of its user's role
    (:func:`ui.page_paths.redirect_for`), or None."""
    from ui.page_paths import page_segment, redirect_for

    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    if page_segment(path) is None or "text/html" not in headers.get("accept", ""):
        return None
    from http.cookies import SimpleCookie

    role = None
    try:
        cookie = SimpleCookie(headers.get("cookie", "")).get(COOKIE)
        user = _store().session_user(cookie.value, user_agent=headers.get("user-agent")) if cookie else None
        role = user.role if user is not None else None
    except Exception:  # a damaged cookie or database: treated as not signed in
        log.exception("session not read for a page path")
    return redirect_for(path, scope.get("query_string", b"").decode("latin-1"), role)


class StreamlitGuard:
    """ASGI middleware in front of Streamlit: 404 for :data:`CLOSED_PATHS`, ``clear_cache`` dropped
    from the websocket."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.rstrip("/").endswith(CLOSED_PATHS):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"not found"})
            return
        if scope["type"] == "http" and scope.get("method") == "GET":
            target = _not_a_page(scope, path)
            if target is not None:
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", target.encode()), (b"cache-control", b"no-store")]})
                await send({"type": "http.response.body", "body": b""})
                return
        if scope["type"] == "websocket" and path.rstrip("/").endswith(STREAM_PATH):
            async def filtered() -> dict:
                while True:
                    message = await receive()
                    frame = message.get("bytes") if message["type"] == "websocket.receive" else None
                    if frame and _is_clear_cache(frame):
                        log.warning("dropped a clear_cache message from %s", scope.get("client"))
                        continue
                    return message

            await self.app(scope, filtered, send)
            return
        await self.app(scope, receive, send)


_STORES: dict[str, Any] = {}
_STORES_LOCK = threading.Lock()


def _store() -> Any:
    """The app database (one Store per URL in this process, as ``ui.cache.store``)."""
    from cb_core.store import Store, default_url

    url = default_url()
    with _STORES_LOCK:
        if url not in _STORES:
            _STORES[url] = Store(url)
        return _STORES[url]


def _local_path(value: str | None) -> str:
    """``value`` if it is a path of this site (``/...``), else ``/``: no redirect to another host."""
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or any(ord(c) < 32 or ord(c) == 127 for c in value)):
        return "/"
    return value


def session_cookie(request: Request) -> RedirectResponse:
    """Redeem a login ticket into an HttpOnly session cookie (or delete the cookie), then go on."""
    response = RedirectResponse(_local_path(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    if request.query_params.get("end"):
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
        return response
    try:
        token = _store().redeem_login_ticket(request.query_params.get("ticket"),
                                             user_agent=request.headers.get("user-agent"))
    except Exception:  # a damaged database: the login page says so in words
        log.exception("login ticket not redeemed")
        token = None
    if token:
        response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", secure=secure, httponly=True,
                            samesite="strict")
    return response


@asynccontextmanager
async def warm_up(_app: Any) -> AsyncIterator[None]:
    """For the life of the server, warm what the pages need for the book and model in use (:mod:`ui.warm`)
    in the background, at start and whenever another is installed: the server answers at once, and the
    first user does not pay for it."""
    stop = threading.Event()
    try:
        from ui import warm

        if warm.enabled():
            threading.Thread(target=warm.keep_warm, kwargs={"stop": stop}, name="cb-keep-warm", daemon=True).start()
        else:
            log.info("warm-up off (%s=%s)", warm.ENV, os.environ.get(warm.ENV))
    except Exception:  # never keep the server from starting: the pages compute what they need
        log.exception("warm-up not started")
    yield
    stop.set()


app = st.App("app.py", lifespan=warm_up, routes=[Route(SESSION_ROUTE, session_cookie, methods=["GET"])],
             middleware=[Middleware(StreamlitGuard)])
