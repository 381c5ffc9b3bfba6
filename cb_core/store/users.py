"""Users, passwords, logins and sessions: the store verbs behind login and ``cb_core users ...``.

Passwords are kept only as argon2id hashes; a generated password is returned once and never stored.
Session tokens are kept only as their sha256, so a copy of the database cannot be replayed as a login.
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
from sqlalchemy.orm import Session

from ..errors import AuthError, ConfigError, ConflictError
from ._gateway import Gateway, aware, clean_text
from .records import User
from .tables import NAME_LENGTH, ROLES, SessionRow, UserRow

MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"[^\s\x00-\x1f\x7f]+")
_WRONG = "wrong user name or password"
_SEEN_REFRESH = timedelta(seconds=60)  # last_seen is written at most this often per session


def _user_name(user: User | str) -> str:
    return user.name if isinstance(user, User) else user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _LoginOutcome:
    user: User | None
    error: str | None


class UserVerbs(Gateway):
    """Mixed into :class:`~cb_core.store.Store`; see there for the settings these verbs use."""

    max_failed_logins: int = MAX_FAILED_LOGINS
    lockout_minutes: float = LOCKOUT_MINUTES
    session_timeout_minutes: float = 30
    _hasher: PasswordHasher

    # -- helpers shared with the other verbs -----------------------------------------------------
    def _user_row(self, session: Session, user: User | str, *, lock: bool = False,
                  active: bool = True) -> UserRow:
        """The row of ``user``; AuthError when there is none or (``active``) it is disabled."""
        name = _user_name(user)
        query = select(UserRow).where(UserRow.name == name)
        row = session.scalars(query.with_for_update() if lock else query).one_or_none()
        if row is None:
            raise AuthError(f"no user named {name!r}")
        if active and row.disabled:
            raise AuthError(f"user {name!r} is disabled")
        return row

    def _check_password(self, password: str) -> str:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            got = f"{len(password)} characters" if isinstance(password, str) else type(password).__name__
            raise ConfigError(f"a password must be at least {MIN_PASSWORD_LENGTH} characters; got {got}")
        return password

    # -- users -----------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, partner: str | None = None, password: str | None = None, *,
                 actor: str = "system") -> tuple[User, str | None]:
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
        generated = secrets.token_urlsafe(15) if password is None else None
        password_hash = self._hasher.hash(self._check_password(password if generated is None else generated))

        def work(session: Session) -> User:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise ConflictError(f"user {name!r} already exists")
            row = UserRow(name=name, role=role, partner=partner, password_hash=password_hash, disabled=False,
                          failed_logins=0, created_at=aware(None))
            session.add(row)
            session.flush()
            self._audit(session, actor, "user.add", "user", name, None, {"role": role, "partner": partner})
            return User.of(row)

        user = self._run(work, on_integrity=lambda exc: ConflictError(f"user {name!r} already exists"))
        return user, generated

    def ensure_first_admin(self, name: str = "admin") -> tuple[User, str] | None:
        """On a store with no users, create admin ``name`` with a random password and return both.

        Returns None when any user exists (every install gets its own password; none is built in).
        """
        def work(session: Session) -> bool:
            return session.scalar(select(func.count()).select_from(UserRow)) == 0

        if not self._run(work, write=False):
            return None
        try:
            user, password = self.add_user(name, "admin", actor="first-start")
        except ConflictError:
            return None
        return user, password or ""

    def list_users(self) -> list[User]:
        """All users (disabled ones too), by name."""
        return self._run(lambda s: [User.of(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))],
                         write=False)

    def get_user(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        row = self._run(lambda s: s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none(), write=False)
        return None if row is None else User.of(row)

    def disable_user(self, name: str, *, actor: str = "system") -> User:
        """Disable a login for good and end its open sessions (users are never deleted)."""
        def work(session: Session) -> User:
            row = self._user_row(session, name, lock=True, active=False)
            before = row.disabled
            row.disabled = True
            session.execute(update(SessionRow).where(SessionRow.user_id == row.id, SessionRow.ended_at.is_(None))
                            .values(ended_at=aware(None)))
            self._audit(session, actor, "user.disable", "user", name, {"disabled": before}, {"disabled": True})
            return User.of(row)

        return self._run(work)

    def reset_password(self, name: str, *, actor: str = "system") -> str:
        """Give ``name`` a new random password (returned once), clear its lockout, end its sessions."""
        password = secrets.token_urlsafe(15)
        password_hash = self._hasher.hash(password)

        def work(session: Session) -> None:
            row = self._user_row(session, name, lock=True, active=False)
            row.password_hash, row.failed_logins, row.locked_until = password_hash, 0, None
            session.execute(update(SessionRow).where(SessionRow.user_id == row.id, SessionRow.ended_at.is_(None))
                            .values(ended_at=aware(None)))
            self._audit(session, actor, "user.reset_password", "user", name, None, {"password": "reset"})

        self._run(work)
        return password

    # -- login -----------------------------------------------------------------------------------
    def authenticate(self, name: str, password: str, now: datetime | None = None) -> User:
        """The user, when ``password`` is right and the account is neither locked nor disabled.

        Every attempt is audited (``login`` / ``login.failed``). Each wrong password counts; the
        ``max_failed_logins``-th in a row locks the account for ``lockout_minutes``, during which
        even the right password is refused. A success resets the count.

        Raises
        ------
        AuthError
            With a message that says which of these happened (an unknown name and a wrong
            password read the same, so names cannot be probed).
        """
        now = aware(now)
        name = name.strip() if isinstance(name, str) else ""
        password = password if isinstance(password, str) else ""
        # argon2 is slow on purpose: verify outside the transaction so no lock is held meanwhile,
        # then apply the outcome to the row only if its hash is still the one verified.
        seen = self._run(lambda s: s.scalars(select(UserRow.password_hash).where(UserRow.name == name)).one_or_none(),
                         write=False)
        correct = self._verify(seen, password)
        new_hash = self._hasher.hash(password) if correct and self._hasher.check_needs_rehash(seen) else None

        def work(session: Session) -> _LoginOutcome:
            row = session.scalars(select(UserRow).where(UserRow.name == name).with_for_update()).one_or_none()
            if row is None:
                self._audit(session, name[:NAME_LENGTH] or "?", "login.failed", "user", name[:NAME_LENGTH] or None,
                            None, {"reason": "unknown user"}, at=now)
                return _LoginOutcome(None, _WRONG)
            if row.locked_until is not None and now < row.locked_until:
                self._audit(session, name, "login.failed", "user", name, None, {"reason": "locked"}, at=now)
                return _LoginOutcome(None, self._locked_message(row))
            if not correct or row.password_hash != seen:  # a reset in between: the old password is void
                row.failed_logins += 1
                reason, message = "wrong password", _WRONG
                if row.failed_logins >= self.max_failed_logins:
                    row.locked_until = now + timedelta(minutes=self.lockout_minutes)
                    reason = "wrong password; locked"
                    minutes = f"{self.lockout_minutes:g} minute{'' if self.lockout_minutes == 1 else 's'}"
                    message = f"{_WRONG}; after {row.failed_logins} failed logins the account is locked for {minutes}"
                    row.failed_logins = 0
                self._audit(session, name, "login.failed", "user", name, None, {"reason": reason}, at=now)
                return _LoginOutcome(None, message)
            if row.disabled:
                self._audit(session, name, "login.failed", "user", name, None, {"reason": "disabled"}, at=now)
                return _LoginOutcome(None, f"account {name!r} is disabled; ask an admin")
            row.failed_logins, row.locked_until = 0, None
            if new_hash is not None:
                row.password_hash = new_hash
            self._audit(session, name, "login", "user", name, at=now)
            return _LoginOutcome(User.of(row), None)

        outcome = self._run(work)  # failures are committed (count, lock, audit) before raising
        if outcome.user is None:
            raise AuthError(outcome.error)
        return outcome.user

    def _verify(self, password_hash: str | None, password: str) -> bool:
        """argon2 check; an unknown user is checked against a dummy hash (same time: no name oracle)."""
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    @property
    def _dummy_hash(self) -> str:
        if not hasattr(self, "_dummy"):
            self._dummy = self._hasher.hash(secrets.token_urlsafe(15))
        return self._dummy

    def _locked_message(self, row: UserRow) -> str:
        until = row.locked_until.strftime("%Y-%m-%d %H:%M UTC") if row.locked_until else "?"
        return (f"account {row.name!r} is locked after {self.max_failed_logins} failed logins until {until}; "
                f"try again later or ask an admin to reset the password")

    # -- sessions --------------------------------------------------------------------------------
    def start_session(self, user: User | str, now: datetime | None = None) -> str:
        """A new random session token for an active user (only its sha256 is stored)."""
        now = aware(now)
        token = secrets.token_urlsafe(32)

        def work(session: Session) -> None:
            row = self._user_row(session, user)
            session.add(SessionRow(token_sha256=_token_hash(token), user_id=row.id, created_at=now, last_seen=now))

        self._run(work)
        return token

    def session_user(self, token: str | None, now: datetime | None = None,
                     timeout_minutes: float | None = None) -> User | None:
        """The user of a live session, refreshing its last activity (at most once a minute); None when
        unknown or over.

        A session is over once ended, once its user is disabled, or after ``timeout_minutes``
        (default: the store's ``session_timeout_minutes``) without activity; the timed-out session
        is then ended for good.
        """
        if not token or not isinstance(token, str):
            return None
        now = aware(now)
        timeout = timedelta(minutes=self.session_timeout_minutes if timeout_minutes is None else timeout_minutes)

        def look(session: Session, lock: bool) -> tuple[SessionRow | None, UserRow | None]:
            query = select(SessionRow).where(SessionRow.token_sha256 == _token_hash(token))
            row = session.scalars(query.with_for_update() if lock else query).one_or_none()
            return row, (None if row is None else session.get(UserRow, row.user_id))

        def fresh(session: Session) -> User | None | bool:
            """The user when nothing needs writing; None when the session is over for good; False
            when last_seen must be refreshed or the session ended (the write path below)."""
            row, user = look(session, lock=False)
            if row is None or row.ended_at is not None:
                return None
            if user is None or user.disabled or now - row.last_seen > timeout:
                return False
            return User.of(user) if now - row.last_seen < _SEEN_REFRESH else False

        def work(session: Session) -> User | None:
            row, user = look(session, lock=True)
            if row is None or row.ended_at is not None:
                return None
            if user is None or user.disabled or now - row.last_seen > timeout:
                row.ended_at = now
                return None
            row.last_seen = max(row.last_seen, now)
            return User.of(user)

        # Every page run asks; only a stale last_seen (or an ending session) takes the write lock, so
        # many users clicking at once do not queue on SQLite's single writer.
        seen = self._run(fresh, write=False)
        return self._run(work) if seen is False else seen

    def end_session(self, token: str | None, now: datetime | None = None) -> None:
        """Log out: the session ends for good (unknown or already ended tokens are ignored)."""
        if not token or not isinstance(token, str):
            return
        now = aware(now)

        def work(session: Session) -> None:
            row = session.scalars(select(SessionRow).where(SessionRow.token_sha256 == _token_hash(token))
                                  .with_for_update()).one_or_none()
            if row is None or row.ended_at is not None:
                return
            row.ended_at = now
            user = session.get(UserRow, row.user_id)
            self._audit(session, user.name if user else "?", "logout", "user", user.name if user else None, at=now)

        self._run(work)
