"""One-time login tickets: the way to a session cookie that page scripts cannot read.

A Streamlit script answers over a websocket and cannot send ``Set-Cookie``; an HTTP route can
(``st.App(..., routes=[...])``, Streamlit 1.53+). So after a successful login the script asks for a
ticket (:func:`issue_ticket`: random, kept only as its sha256, valid ``TICKET_SECONDS``, bound to
the browser's User-Agent) and sends the browser to the route with it; the route exchanges it once
(:func:`redeem_ticket`) for a new session token, set as an ``HttpOnly; SameSite=Strict`` cookie,
and redirects to the app, which reads the cookie with ``st.context.cookies``. A ticket that is
unknown, used, expired or presented by another User-Agent gives nothing (and is used up).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._actor import user_row
from ._values import aware, sha256_text, user_agent_hash
from .records import User
from .tables import LoginTicketRow, SessionRow, UserRow

__all__ = ["TICKET_SECONDS", "issue_ticket", "redeem_ticket"]

TICKET_SECONDS = 60


def issue_ticket(session: Session, user: User | str, now: datetime | None = None,
                 user_agent: str | None = None) -> str:
    """A new one-time ticket for an active user (only its sha256 is stored)."""
    now = aware(now)
    ticket = secrets.token_urlsafe(32)
    row = user_row(session, user)
    session.add(LoginTicketRow(ticket_sha256=sha256_text(ticket), user_id=row.id,
                               user_agent_sha256=user_agent_hash(user_agent), created_at=now,
                               expires_at=now + timedelta(seconds=TICKET_SECONDS)))
    return ticket


def redeem_ticket(session: Session, ticket: str | None, now: datetime | None = None,
                  user_agent: str | None = None) -> str | None:
    """The token of a new session for the ticket's user, once; None for a ticket that is unknown,
    used, expired, from another User-Agent, or whose user is disabled meanwhile."""
    if not ticket or not isinstance(ticket, str):
        return None
    now = aware(now)
    row = session.scalars(select(LoginTicketRow).where(LoginTicketRow.ticket_sha256 == sha256_text(ticket))
                          .with_for_update()).one_or_none()
    if row is None or row.used_at is not None:
        return None
    row.used_at = now
    user = session.get(UserRow, row.user_id)
    if (now >= row.expires_at or user is None or user.disabled
            or (row.user_agent_sha256 is not None and row.user_agent_sha256 != user_agent_hash(user_agent))):
        return None
    token = secrets.token_urlsafe(32)
    session.add(SessionRow(token_sha256=sha256_text(token), user_id=user.id, created_at=now, last_seen=now,
                           user_agent_sha256=row.user_agent_sha256))
    return token
