"""One-time handoff tickets: how the signed-in script's session token reaches the HttpOnly cookie.

A Streamlit script answers over a websocket and cannot send ``Set-Cookie``; an HTTP route of
``server.py`` can. After a login the script starts the session itself (the token stays in session
state) and hands the token over here for a ticket (:func:`issue`); a background ``fetch()`` from the
page posts the ticket to the route, which takes the token back once (:func:`redeem`) and sets it as the
cookie. So the cookie holds the very session the script holds (one session per login).

The map lives in this process's memory only (``server.py`` and the page scripts run in one process;
raw tokens never reach the database, which keeps only their sha256): it is keyed by the ticket's
sha256, each entry holds the token, the sha256 of the browser's User-Agent and an expiry
(:data:`TICKET_SECONDS`). A ticket is random (32 bytes, as the store's session tokens), works once
and gives nothing when unknown, expired, used, or presented with another User-Agent (that try uses
it up). A server restart forgets pending tickets: the tab stays signed in, a reload shows the login
form. Imports nothing of the app (no Streamlit).
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["TICKET_SECONDS", "Handoff", "discard", "issue", "pending", "redeem"]

#: How long a ticket waits for its fetch (the store's login tickets had a minute too).
TICKET_SECONDS = 60.0


def _sha256(text: str | None) -> str:
    return hashlib.sha256(("" if text is None else "\x00" + text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Entry:
    token: str
    user_agent_sha256: str
    expires: float


class Handoff:
    """A lock-protected map ticket sha256 -> (token, User-Agent sha256, expiry), each ticket used once.

    ``clock`` (monotonic seconds) is there for tests.
    """

    def __init__(self, seconds: float = TICKET_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def issue(self, token: str, user_agent: str | None) -> str:
        """A new ticket for ``token``, redeemable once within :attr:`seconds` with the same ``user_agent``."""
        if not token or not isinstance(token, str):
            raise ValueError(f"a handoff needs a session token; got {type(token).__name__}")
        ticket = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.expires <= now]:  # bounded by logins per minute
                del self._entries[key]
            self._entries[_sha256(ticket)] = _Entry(token, _sha256(user_agent), now + self.seconds)
        return ticket

    def redeem(self, ticket: str | None, user_agent: str | None) -> str | None:
        """The token handed over with ``ticket``, once; None when the ticket is unknown, used, expired
        or presented with another User-Agent (the ticket is then used up all the same)."""
        if not ticket or not isinstance(ticket, str):
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.pop(_sha256(ticket), None)
        if entry is None or now >= entry.expires or entry.user_agent_sha256 != _sha256(user_agent):
            return None
        return entry.token

    def pending(self, ticket: str | None) -> bool:
        """Whether ``ticket`` still waits for its fetch (issued, not redeemed, not expired)."""
        if not ticket or not isinstance(ticket, str):
            return False
        with self._lock:
            entry = self._entries.get(_sha256(ticket))
        return entry is not None and self._clock() < entry.expires

    def discard(self, ticket: str | None) -> None:
        """Forget ``ticket`` (a logout before its fetch ran)."""
        if ticket and isinstance(ticket, str):
            with self._lock:
                self._entries.pop(_sha256(ticket), None)


#: The process's one map: the pages issue, server.py's route redeems.
HANDOFF = Handoff()
issue, redeem, pending, discard = HANDOFF.issue, HANDOFF.redeem, HANDOFF.pending, HANDOFF.discard
