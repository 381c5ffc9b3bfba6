"""Merchant CB served as an ``st.App`` (``streamlit run server.py``; ``make run`` and the browser tests).

The pages are ``app.py``; this file adds one HTTP route and wraps Streamlit's server with what its
configuration cannot close.

``POST /cb/session`` (:data:`SESSION_ROUTE`): after a login, the page script has started the session
itself and keeps its token in session state; to put the same token in the ``cb_session`` cookie (a
script cannot send ``Set-Cookie``) it hands the token to :mod:`ui.handoff` for a one-time ticket (a
minute, bound to the User-Agent, memory only: the pages and this route run in one process), and a
tiny component posts the ticket with a background ``fetch()`` (form body ``ticket=...``, so the ticket
stays out of URLs and logs). The route redeems it and answers 204 with the cookie, ``HttpOnly;
SameSite=Strict; Path=/`` (and ``Secure`` over HTTPS); an unknown, expired, used or other-browser ticket
gets 403 and no cookie, a cross-site request (``Sec-Fetch-Site``) 403 before any ticket is touched. Page
scripts never see the token (``document.cookie``); the websocket handshake of a reload or a new tab
sends it, and ``st.context.cookies`` reads it.

``GET /cb/session?end=1&next=/page`` deletes the cookie (after a logout) and redirects to ``next`` (a
path of this site only); without ``end`` it only redirects.

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
from starlette.responses import RedirectResponse, Response
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


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


#: A handoff ticket is 43 characters (``secrets.token_urlsafe(32)``); a body past this is not one.
MAX_BODY = 256


async def session_cookie(request: Request) -> Response:
    """POST: redeem a handoff ticket into the HttpOnly session cookie (204), or refuse (403).
    GET: delete the cookie when ``end`` is given, then go on to ``next``."""
    if request.method == "GET":
        response: Response = RedirectResponse(_local_path(request.query_params.get("next")), status_code=303)
        response.headers["Cache-Control"] = "no-store"
        if request.query_params.get("end"):
            response.delete_cookie(COOKIE, path="/", secure=_secure(request), httponly=True, samesite="strict")
        return response
    refused = Response(status_code=403, headers={"Cache-Control": "no-store"})
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return refused  # another site's page cannot post (nor use up) a ticket
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return refused
    from urllib.parse import parse_qs

    from ui import handoff

    try:
        tickets = parse_qs(body.decode("ascii"), max_num_fields=2).get("ticket", [])
    except ValueError:  # not ASCII, or too many fields: not what the component posts
        tickets = []
    token = handoff.redeem(tickets[0] if len(tickets) == 1 else None, request.headers.get("user-agent"))
    if not token:
        log.warning("session handoff refused from %s", request.client.host if request.client else "?")
        return refused
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", secure=_secure(request), httponly=True,
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


app = st.App("app.py", lifespan=warm_up, routes=[Route(SESSION_ROUTE, session_cookie, methods=["GET", "POST"])],
             middleware=[Middleware(StreamlitGuard)])
