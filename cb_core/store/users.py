"""Users, passwords, logins and sessions: the verbs behind login and ``cb_core users ...``.

Passwords are kept only as argon2id hashes (:class:`Passwords`); a generated password is returned
once and never stored. Session tokens are kept only as their sha256, so a copy of the database
cannot be replayed as a login.

A login takes two transactions with the slow argon2 check between them (no lock is held while it
runs): :func:`password_hash_of`, :meth:`Passwords.check`, then :func:`record_login`. A page run
asks :func:`peek_session` (read-only) and only a stale or ending session takes the write lock in
:func:`touch_session`. :class:`~cb_core.store.Store` composes those steps.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import ConfigError, ConflictError
from ._actor import user_row
from ._gateway import write_audit
from ._values import aware, clean_text
from .records import User
from .tables import NAME_LENGTH, ROLES, SessionRow, UserRow

__all__ = ["LOCKOUT_MINUTES", "MAX_FAILED_LOGINS", "MIN_PASSWORD_LENGTH", "LoginOutcome", "PasswordCheck",
           "Passwords", "add_user", "disable_user", "end_session", "get_user", "has_users", "list_users",
           "password_hash_of", "peek_session", "record_login", "reset_password", "start_session", "touch_session"]

MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"[^\s\x00-\x1f\x7f]+")
_WRONG = "wrong user name or password"
_SEEN_REFRESH = timedelta(seconds=60)  # last_seen is written at most this often per session


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PasswordCheck:
    """What :meth:`Passwords.check` found: the hash it checked, whether the password matched it,
    and a stronger hash of the password when the stored one was made with weaker parameters."""

    seen_hash: str | None
    correct: bool
    new_hash: str | None


@dataclass(frozen=True)
class LoginOutcome:
    """The user of a successful login, or the message of a refused one (already audited)."""

    user: User | None
    error: str | None


class Passwords:
    """argon2id hashing and checking of one store's passwords."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """The hash of ``password``; ConfigError when it is shorter than ``MIN_PASSWORD_LENGTH``."""
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            got = f"{len(password)} characters" if isinstance(password, str) else type(password).__name__
            raise ConfigError(f"a password must be at least {MIN_PASSWORD_LENGTH} characters; got {got}")
        return self.hasher.hash(password)

    @staticmethod
    def generate() -> str:
        """A new random password (20 characters)."""
        return secrets.token_urlsafe(15)

    def check(self, password_hash: str | None, password: str) -> PasswordCheck:
        """Whether ``password`` matches ``password_hash``; None (an unknown user) is checked against
        a dummy hash, so both take the same time and names cannot be probed."""
        if password_hash is None and self._dummy is None:
            self._dummy = self.hasher.hash(self.generate())
        try:
            correct = self.hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            correct = False
        rehash = correct and self.hasher.check_needs_rehash(password_hash)
        return PasswordCheck(password_hash, correct, self.hasher.hash(password) if rehash else None)


# -- users ---------------------------------------------------------------------------------------
def add_user(session: Session, passwords: Passwords, name: str, role: str, partner: str | None = None,
             password: str | None = None, *, actor: str = "system") -> tuple[User, str | None]:
    """Create a user; returns ``(user, generated_password)``.

    ``password=None`` generates a random one, returned here once (it is stored only hashed);
    with a given password the second item is None. Role ``partner`` needs ``partner`` (the
    lender whose demo view the user sees); other roles must not have one.
    Raises ConflictError when the name is taken, ConfigError for a bad name, role or password.
    """
    name = clean_text(name, "user name", max_length=NAME_LENGTH)
    if not _NAME.fullmatch(name):
        raise ConfigError(f"a user name must not contain spaces or control characters; got {name!r}")
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if role == "partner":
        if partner is None:
            raise ConfigError(f"user {name!r} has role partner and needs the partner it belongs to")
        partner = clean_text(partner, "partner", max_length=NAME_LENGTH)
    elif partner is not None:
        raise ConfigError(f"only role partner has a partner; {name!r} has role {role} and partner {partner!r}")
    generated = passwords.generate() if password is None else None
    password_hash = passwords.hash(password if generated is None else generated)
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise ConflictError(f"user {name!r} already exists")
    row = UserRow(name=name, role=role, partner=partner, password_hash=password_hash, disabled=False,
                  failed_logins=0, created_at=aware(None))
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # someone took the name since the check above
        raise ConflictError(f"user {name!r} already exists") from None
    write_audit(session, actor, "user.add", "user", name, None, {"role": role, "partner": partner})
    return User.of(row), generated


def has_users(session: Session) -> bool:
    """Whether any user exists (disabled ones count)."""
    return session.scalar(select(func.count()).select_from(UserRow)) > 0


def list_users(session: Session) -> list[User]:
    """All users (disabled ones too), by name."""
    return [User.of(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]


def get_user(session: Session, name: str) -> User | None:
    """The user called ``name``, or None."""
    row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
    return None if row is None else User.of(row)


def _end_sessions(session: Session, row: UserRow) -> None:
    session.execute(update(SessionRow).where(SessionRow.user_id == row.id, SessionRow.ended_at.is_(None))
                    .values(ended_at=aware(None)))


def disable_user(session: Session, name: str, *, actor: str = "system") -> User:
    """Disable a login for good and end its open sessions (users are never deleted)."""
    row = user_row(session, name, lock=True, active=False)
    before = row.disabled
    row.disabled = True
    _end_sessions(session, row)
    write_audit(session, actor, "user.disable", "user", name, {"disabled": before}, {"disabled": True})
    return User.of(row)


def reset_password(session: Session, passwords: Passwords, name: str, *, actor: str = "system") -> str:
    """Give ``name`` a new random password (returned once), clear its lockout, end its sessions."""
    password = passwords.generate()
    password_hash = passwords.hasher.hash(password)
    row = user_row(session, name, lock=True, active=False)
    row.password_hash, row.failed_logins, row.locked_until = password_hash, 0, None
    _end_sessions(session, row)
    write_audit(session, actor, "user.reset_password", "user", name, None, {"password": "reset"})
    return password


# -- login ---------------------------------------------------------------------------------------
def password_hash_of(session: Session, name: str) -> str | None:
    """The stored hash of ``name``'s password (None: no such user), to check outside a transaction."""
    return session.scalars(select(UserRow.password_hash).where(UserRow.name == name)).one_or_none()


def record_login(session: Session, name: str, check: PasswordCheck, now: datetime, *,
                 max_failed_logins: int = MAX_FAILED_LOGINS,
                 lockout_minutes: float = LOCKOUT_MINUTES) -> LoginOutcome:
    """Apply a checked login attempt to ``name``'s row, audited (``login`` / ``login.failed``).

    Each wrong password counts; the ``max_failed_logins``-th in a row locks the account for
    ``lockout_minutes``, during which even the right password is refused. A success resets the
    count. The password counts as right only if the row still holds the hash that was checked (a
    reset in between voids the old password). Failures are returned, not raised, so that the
    count, the lock and the audit entry are committed.
    """
    row = session.scalars(select(UserRow).where(UserRow.name == name).with_for_update()).one_or_none()
    if row is None:
        write_audit(session, name[:NAME_LENGTH] or "?", "login.failed", "user", name[:NAME_LENGTH] or None,
                    None, {"reason": "unknown user"}, at=now)
        return LoginOutcome(None, _WRONG)
    if row.locked_until is not None and now < row.locked_until:
        write_audit(session, name, "login.failed", "user", name, None, {"reason": "locked"}, at=now)
        until = row.locked_until.strftime("%Y-%m-%d %H:%M UTC")
        return LoginOutcome(None, f"account {row.name!r} is locked after {max_failed_logins} failed logins until "
                                  f"{until}; try again later or ask an admin to reset the password")
    if not check.correct or row.password_hash != check.seen_hash:
        row.failed_logins += 1
        reason, message = "wrong password", _WRONG
        if row.failed_logins >= max_failed_logins:
            row.locked_until = now + timedelta(minutes=lockout_minutes)
            reason = "wrong password; locked"
            minutes = f"{lockout_minutes:g} minute{'' if lockout_minutes == 1 else 's'}"
            message = f"{_WRONG}; after {row.failed_logins} failed logins the account is locked for {minutes}"
            row.failed_logins = 0
        write_audit(session, name, "login.failed", "user", name, None, {"reason": reason}, at=now)
        return LoginOutcome(None, message)
    if row.disabled:
        write_audit(session, name, "login.failed", "user", name, None, {"reason": "disabled"}, at=now)
        return LoginOutcome(None, f"account {name!r} is disabled; ask an admin")
    row.failed_logins, row.locked_until = 0, None
    if check.new_hash is not None:
        row.password_hash = check.new_hash
    write_audit(session, name, "login", "user", name, at=now)
    return LoginOutcome(User.of(row), None)


# -- sessions ------------------------------------------------------------------------------------
def start_session(session: Session, user: User | str, now: datetime | None = None) -> str:
    """A new random session token for an active user (only its sha256 is stored)."""
    now = aware(now)
    token = secrets.token_urlsafe(32)
    row = user_row(session, user)
    session.add(SessionRow(token_sha256=_token_hash(token), user_id=row.id, created_at=now, last_seen=now))
    return token


def _look(session: Session, token: str, lock: bool) -> tuple[SessionRow | None, UserRow | None]:
    query = select(SessionRow).where(SessionRow.token_sha256 == _token_hash(token))
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    return row, (None if row is None else session.get(UserRow, row.user_id))


def peek_session(session: Session, token: str, now: datetime, timeout: timedelta) -> User | None | bool:
    """Read-only: the user of a live session when nothing needs writing; None when the session is
    unknown or over for good; False when :func:`touch_session` must refresh its last activity or
    end it (idle longer than ``timeout``, or its user disabled)."""
    row, user = _look(session, token, lock=False)
    if row is None or row.ended_at is not None:
        return None
    if user is None or user.disabled or now - row.last_seen > timeout:
        return False
    return User.of(user) if now - row.last_seen < _SEEN_REFRESH else False


def touch_session(session: Session, token: str, now: datetime, timeout: timedelta) -> User | None:
    """The user of a live session, its last activity moved to ``now``; None when unknown or over (a
    session idle longer than ``timeout`` or whose user is disabled is ended for good)."""
    row, user = _look(session, token, lock=True)
    if row is None or row.ended_at is not None:
        return None
    if user is None or user.disabled or now - row.last_seen > timeout:
        row.ended_at = now
        return None
    row.last_seen = max(row.last_seen, now)
    return User.of(user)


def end_session(session: Session, token: str | None, now: datetime | None = None) -> None:
    """Log out: the session ends for good (unknown or already ended tokens are ignored)."""
    if not token or not isinstance(token, str):
        return
    now = aware(now)
    row = session.scalars(select(SessionRow).where(SessionRow.token_sha256 == _token_hash(token))
                          .with_for_update()).one_or_none()
    if row is None or row.ended_at is not None:
        return
    row.ended_at = now
    user = session.get(UserRow, row.user_id)
    write_audit(session, user.name if user else "?", "logout", "user", user.name if user else None, at=now)
