"""Users and sessions: the verbs behind ``cb_core users ...`` and a signed-in browser.

Passwords are kept only as argon2id hashes (:mod:`.passwords`, which also holds the password
policy); a generated password is returned once and never stored. Session tokens are kept only as
their sha256, so a copy of the database cannot be replayed as a login; a session is bound to the
sha256 of the browser's User-Agent it was started from, so a token copied into another browser
is refused.

A login takes two transactions with the slow argon2 check between them (no lock is held while it
runs): :func:`password_hash_of`, :meth:`.passwords.Passwords.check`, then
:func:`.logins.record_login`. A page run asks :func:`peek_session` (read-only) and only a stale or
ending session takes the write lock in :func:`touch_session`. :class:`~cb_core.store.Store`
composes those steps.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import ConfigError, ConflictError
from ._actor import user_row
from ._gateway import write_audit
from ._values import aware, clean_text, sha256_text, user_agent_hash
from .passwords import Passwords
from .records import User
from .tables import NAME_LENGTH, ROLES, SessionRow, UserRow

__all__ = ["add_user", "disable_user", "enable_user", "end_session", "get_user", "has_users", "list_users", "password_hash_of",
           "peek_session", "reset_password", "set_role", "start_session", "touch_session"]

_NAME = re.compile(r"[^\s\x00-\x1f\x7f]+")
_SEEN_REFRESH = timedelta(seconds=60)  # last_seen is written at most this often per session




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
        raise ConfigError(f"a user name must not contain spaces or control characters; got {name!r}",
                          key="err_user_name", name=name)
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}; got {role!r}", key="err_users_role_one_roles_got", ROLES=', '.join(ROLES), role=role)
    if role == "partner":
        if partner is None:
            raise ConfigError(f"user {name!r} has role partner and needs the partner it belongs to",
                              key="err_user_needs_partner", name=name)
        partner = clean_text(partner, "partner", max_length=NAME_LENGTH)
    elif partner is not None:
        raise ConfigError(f"only role partner has a partner; {name!r} has role {role} and partner {partner!r}", key="err_users_only_role_partner_partner", name=name, role=role, partner=partner)
    generated = passwords.generate() if password is None else None
    password_hash = passwords.hash(password, name) if generated is None else passwords.hasher.hash(generated)
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise ConflictError(f"user {name!r} already exists", key="err_user_exists", name=name)
    row = UserRow(name=name, role=role, partner=partner, password_hash=password_hash, disabled=False,
                  failed_logins=0, created_at=aware(None))
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # someone took the name since the check above
        raise ConflictError(f"user {name!r} already exists", key="err_user_exists", name=name) from None
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


def _keep_an_admin(session: Session, row: UserRow, what: str) -> None:
    """ConflictError when ``row`` is the last active admin (no one could manage users after ``what``)."""
    if row.role != "admin" or row.disabled:
        return
    others = session.scalar(select(func.count()).select_from(UserRow).where(
        UserRow.role == "admin", UserRow.disabled.is_(False), UserRow.id != row.id))
    if not others:
        raise ConflictError(f"{row.name!r} is the last active admin; {what} would leave no one to manage users",
                            key="err_last_admin", name=row.name)


def disable_user(session: Session, name: str, *, actor: str = "system") -> User:
    """Disable a login for good and end its open sessions (users are never deleted). The last active
    admin cannot be disabled (ConflictError)."""
    row = user_row(session, name, lock=True, active=False)
    _keep_an_admin(session, row, "disabling it")
    before = row.disabled
    row.disabled = True
    _end_sessions(session, row)
    write_audit(session, actor, "user.disable", "user", name, {"disabled": before}, {"disabled": True})
    return User.of(row)


def enable_user(session: Session, name: str, *, actor: str = "system") -> User:
    """Let a disabled user sign in again (with the password it had; reset it to give a new one)."""
    row = user_row(session, name, lock=True, active=False)
    before = row.disabled
    row.disabled = False
    write_audit(session, actor, "user.enable", "user", name, {"disabled": before}, {"disabled": False})
    return User.of(row)


def set_role(session: Session, name: str, role: str, partner: str | None = None, *, actor: str = "system") -> User:
    """Give ``name`` another role (and, for role partner, the partner it belongs to); its sessions end,
    so the new rights apply from its next sign-in. The last active admin keeps its role (ConflictError)."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}; got {role!r}", key="err_user_role", role=role)
    if role == "partner":
        if not (partner or "").strip():
            raise ConfigError(f"user {name!r} has role partner and needs the partner it belongs to",
                              key="err_user_needs_partner", name=name)
        partner = clean_text(partner, "partner", max_length=NAME_LENGTH)
    else:
        partner = None
    row = user_row(session, name, lock=True, active=False)
    if role != "admin":
        _keep_an_admin(session, row, "changing its role")
    before = {"role": row.role, "partner": row.partner}
    row.role, row.partner = role, partner
    _end_sessions(session, row)
    write_audit(session, actor, "user.role", "user", name, before, {"role": role, "partner": partner})
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


# -- sessions ------------------------------------------------------------------------------------
def start_session(session: Session, user: User | str, now: datetime | None = None,
                  user_agent: str | None = None) -> str:
    """A new random session token for an active user (only its sha256 is stored, with the sha256
    of ``user_agent``, the browser's User-Agent header, when given)."""
    now = aware(now)
    token = secrets.token_urlsafe(32)
    row = user_row(session, user)
    session.add(SessionRow(token_sha256=sha256_text(token), user_id=row.id, created_at=now, last_seen=now,
                           user_agent_sha256=user_agent_hash(user_agent)))
    return token


def _other_browser(row: SessionRow, user_agent: str | None) -> bool:
    # A session started with a User-Agent is valid only with the same one.
    return row.user_agent_sha256 is not None and row.user_agent_sha256 != user_agent_hash(user_agent)


def _look(session: Session, token: str, lock: bool) -> tuple[SessionRow | None, UserRow | None]:
    query = select(SessionRow).where(SessionRow.token_sha256 == sha256_text(token))
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    return row, (None if row is None else session.get(UserRow, row.user_id))


def peek_session(session: Session, token: str, now: datetime, timeout: timedelta,
                 user_agent: str | None = None) -> User | None | bool:
    """Read-only: the user of a live session when nothing needs writing; None when the session is
    unknown or over for good, or ``user_agent`` is not the one it was started with (the session
    itself stays valid for its own browser); False when :func:`touch_session` must refresh its last
    activity or end it (idle longer than ``timeout``, or its user disabled)."""
    row, user = _look(session, token, lock=False)
    if row is None or row.ended_at is not None or _other_browser(row, user_agent):
        return None
    if user is None or user.disabled or now - row.last_seen > timeout:
        return False
    return User.of(user) if now - row.last_seen < _SEEN_REFRESH else False


def touch_session(session: Session, token: str, now: datetime, timeout: timedelta,
                  user_agent: str | None = None) -> User | None:
    """The user of a live session, its last activity moved to ``now``; None when unknown, over (a
    session idle longer than ``timeout`` or whose user is disabled is ended for good) or presented
    from another browser."""
    row, user = _look(session, token, lock=True)
    if row is None or row.ended_at is not None or _other_browser(row, user_agent):
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
    row = session.scalars(select(SessionRow).where(SessionRow.token_sha256 == sha256_text(token))
                          .with_for_update()).one_or_none()
    if row is None or row.ended_at is not None:
        return
    row.ended_at = now
    user = session.get(UserRow, row.user_id)
    write_audit(session, user.name if user else "?", "logout", "user", user.name if user else None, at=now)
