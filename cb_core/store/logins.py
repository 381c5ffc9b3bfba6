"""Logins: one answer for every wrong guess, throttling per client, a lock strangers cannot use.

What a caller learns from a refused login, and why:

* **A wrong password and an unknown name read the same** (``wrong user name or password``), with
  the same :class:`LoginError` key, and take the same time (an unknown name is checked against a
  dummy hash). "This account is locked" and "disabled" are said only after the right password.
* **Throttling per client.** Each client (the address the app passes as ``client``; kept only as a
  keyed hash) may fail ``free_failures`` times in a row (as many as lock an account, so its owner
  can still hear that it is locked); each failure after that makes it wait twice as long before
  its next attempt (1 s, 2 s, 4 s, ... up to ``max_delay``). The wait is
  recorded as a "not before" time and an early attempt is refused at once, without checking the
  password: nothing sleeps in the server. A success clears the client's record; a client that has
  not failed for ``CLIENT_MEMORY`` starts afresh.
* **The account lock binds only clients that failed.** ``max_failed_logins`` wrong passwords in a
  row (from any clients) lock the account for ``lockout_minutes``, but only against clients with
  failures on record: the real user, from a client that has not failed, still signs in with the
  right password. An admin ends a lock at once with ``python -m cb_core users unlock NAME``.
* **Without a client** (``client_key`` None: the CLI, a caller that cannot tell) nothing is
  throttled and an account lock binds the caller: one shared record would let any stranger slow
  every login. The app must pass the browser's address.

Every attempt is audited in the same transaction as its outcome. A name that is not a user is
stored only as a keyed hash (``unknown:<16 hex>``): a password typed into the name field never
reaches the log.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import AuthError
from ..i18n import format_kst
from ._actor import user_row
from ._gateway import write_audit
from .passwords import PasswordCheck
from .records import User
from .tables import LoginClientRow, UserRow

__all__ = ["CLIENT_MEMORY", "LoginError", "LoginOutcome", "LoginRules", "client_wait", "record_login",
           "record_throttled", "unlock_user"]

CLIENT_MEMORY = timedelta(days=1)
WRONG = "wrong user name or password"


class LoginError(AuthError):
    """A refused login. ``key`` and ``params`` are its label in ``data/i18n`` (``login_wrong``,
    ``login_throttled``, ``login_locked``, ``login_disabled``) for the login form."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class LoginRules:
    """How many failures lock an account (and for how long) and how clients are slowed."""

    max_failed_logins: int = 5
    lockout_minutes: float = 15
    free_failures: int = 5
    max_delay: timedelta = field(default=timedelta(minutes=15))

    def delay(self, failures: int) -> timedelta | None:
        """The wait after a client's ``failures``-th failure in a row (None: no wait)."""
        if failures <= self.free_failures:
            return None
        return min(timedelta(seconds=2 ** min(failures - self.free_failures - 1, 30)), self.max_delay)


@dataclass(frozen=True)
class LoginOutcome:
    """The user of a successful login, or the error of a refused one (already audited)."""

    user: User | None
    error: LoginError | None


def wrong() -> LoginError:
    return LoginError("login_wrong", WRONG)


def _client(session: Session, client_key: str, now: datetime, lock: bool) -> LoginClientRow | None:
    query = select(LoginClientRow).where(LoginClientRow.client_key == client_key)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is not None and row.last_failure is not None and now - row.last_failure > CLIENT_MEMORY:
        row.failures, row.not_before = 0, None  # forgotten (written only by a writing transaction)
    return row


def client_wait(session: Session, client_key: str | None, now: datetime) -> datetime | None:
    """Read-only: the time before which ``client_key`` may not try again, or None."""
    if client_key is None:
        return None
    row = _client(session, client_key, now, lock=False)
    if row is None or row.not_before is None or now >= row.not_before:
        return None
    return row.not_before


def _audit_name(session: Session, name: str, mask: Callable[[str], str]) -> str:
    exists = session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None
    return name if exists else mask(name)


def throttled(until: datetime, now: datetime) -> LoginError:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    return LoginError("login_throttled", f"too many failed logins from this connection; try again in {seconds} s", seconds=seconds)


def record_throttled(session: Session, name: str, client_key: str, until: datetime, now: datetime,
                     mask: Callable[[str], str]) -> LoginError:
    """Audit an attempt refused because its client must wait; returns the error to raise."""
    who = _audit_name(session, name, mask)
    write_audit(session, who, "login.failed", "user", who, None, {"reason": "client throttled"}, at=now)
    return throttled(until, now)


def _fail_client(session: Session, client_key: str | None, now: datetime, rules: LoginRules) -> None:
    if client_key is None:
        return
    row = _client(session, client_key, now, lock=True)
    if row is None:
        row = LoginClientRow(client_key=client_key, failures=0)
        session.add(row)
    row.failures += 1
    row.last_failure = now
    delay = rules.delay(row.failures)
    row.not_before = None if delay is None else now + delay


def record_login(session: Session, name: str, check: PasswordCheck, now: datetime, client_key: str | None,
                 mask: Callable[[str], str], rules: LoginRules = LoginRules()) -> LoginOutcome:
    """Apply a checked login attempt, audited (``login`` / ``login.failed`` with the reason).

    The password counts as right only if the row still holds the hash that was checked (a reset
    in between voids the old password). Failures are returned, not raised, so that the counts,
    the lock and the audit entry are committed.
    """
    client = None if client_key is None else _client(session, client_key, now, lock=True)
    client_failed = client_key is None or (client is not None and client.failures > 0)
    row = session.scalars(select(UserRow).where(UserRow.name == name).with_for_update()).one_or_none()
    if row is None:
        _fail_client(session, client_key, now, rules)
        who = mask(name)
        write_audit(session, who, "login.failed", "user", who, None, {"reason": "unknown user"}, at=now)
        return LoginOutcome(None, wrong())
    if not check.correct or row.password_hash != check.seen_hash:
        row.failed_logins += 1
        reason = "wrong password"
        if row.failed_logins >= rules.max_failed_logins:
            row.locked_until, row.failed_logins = now + timedelta(minutes=rules.lockout_minutes), 0
            reason = "wrong password; locked"
        _fail_client(session, client_key, now, rules)
        write_audit(session, name, "login.failed", "user", name, None, {"reason": reason}, at=now)
        return LoginOutcome(None, wrong())
    if row.locked_until is not None and now < row.locked_until and client_failed:
        write_audit(session, name, "login.failed", "user", name, None, {"reason": "locked"}, at=now)
        until = row.locked_until.strftime("%Y-%m-%d %H:%M UTC")
        return LoginOutcome(None, LoginError(
            "login_locked", f"account {name!r} is locked after {rules.max_failed_logins} failed logins until "
                            f"{until}; try again then, from this device, or ask an admin to unlock it",
            until=format_kst(row.locked_until)))  # what the sign-in form shows: Korea time, zone named
    if row.disabled:
        write_audit(session, name, "login.failed", "user", name, None, {"reason": "disabled"}, at=now)
        return LoginOutcome(None, LoginError("login_disabled", f"account {name!r} is disabled; ask an admin"))
    unlocked = row.locked_until is not None and now < row.locked_until
    row.failed_logins, row.locked_until = 0, None
    if check.new_hash is not None:
        row.password_hash = check.new_hash
    if client is not None:
        client.failures, client.not_before = 0, None
    write_audit(session, name, "login", "user", name, None, {"lock_bypassed": True} if unlocked else None, at=now)
    return LoginOutcome(User.of(row), None)


def unlock_user(session: Session, name: str, *, actor: str = "system") -> User:
    """End ``name``'s lock and failure count at once (``python -m cb_core users unlock NAME``)."""
    row = user_row(session, name, lock=True, active=False)
    before = {"failed_logins": row.failed_logins, "locked_until": row.locked_until}
    row.failed_logins, row.locked_until = 0, None
    write_audit(session, actor, "user.unlock", "user", name, before, {"failed_logins": 0, "locked_until": None})
    return User.of(row)
