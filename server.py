"""Merchant CB served as an ``st.App`` (``streamlit run server.py``; ``make run`` and the browser tests).

The pages are ``app.py``; this file only wraps Streamlit's server with what its configuration cannot
close (Streamlit 1.67 has no option for either):

- ``/_stcore/metrics`` answers 404: it told anyone cache names and session counts.
- A ``clear_cache`` message on the websocket is dropped (and logged): it cleared every user's
  ``st.cache_*`` at once, before any login, a cheap denial of service. The app's own toolbar
  (``client.toolbarMode = "minimal"``) never sends it.
"""
from __future__ import annotations

import logging
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

log = logging.getLogger("merchant_cb.server")

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


app = st.App("app.py", middleware=[Middleware(StreamlitGuard)])
