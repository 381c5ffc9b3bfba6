"""The :class:`Store`: one front over one :class:`~cb_core.store._gateway.Gateway`.

Each method runs the verb function of the same name in its module (``users``, ``policies``, ``decisions``,
``watch``...; the verb's rules and full documentation live there) in one transaction; the few verbs
that need two (a login, a session check, a race answered afresh) compose them here.
"""
from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Self

from argon2 import PasswordHasher
from sqlalchemy import Engine

from ..config import get_settings
from ..errors import ConfigError, ConflictError
from . import audit, decisions, logins, maintenance, policies, products, requests, tickets, users, watch
from ._files import EMPTY, FileIdentity, Secret, damaged, marker_path, prepare_sqlite, private_folder, sqlite_file, \
    write_marker
from ._gateway import DEFAULT_BUSY_TIMEOUT_S, DEFAULT_RETRIES, Gateway
from ._values import aware
from .passwords import Passwords
from .records import AuditEntry, Decision, MerchantRequest, PolicyVersion, ProductCatalogVersion, User, WatchAction

__all__ = ["Store"]


class Store:
    """The app database behind verbs; opening one upgrades the schema to the newest revision.

    Parameters: ``url`` (SQLAlchemy URL; None = the ``database_url`` setting or, when empty, the SQLite
    file ``<state_dir>/cb.sqlite``); ``max_failed_logins``, ``lockout_minutes`` (wrong passwords in a
    row that lock an account, against clients that failed, and for how long: :mod:`.logins`);
    ``session_timeout_minutes`` (inactivity that ends a session; None = the setting);
    ``busy_timeout_s``, ``retries`` (how long a SQLite writer waits for the write lock, and how often a
    transaction that lost a lock race is retried); ``password_hasher`` (argon2id; None = argon2-cffi's
    RFC 9106 low-memory profile); ``confirm_empty`` (open an empty database although one existed here
    before: ``db init --confirm-empty``; without it such a store refuses to open, :mod:`._files`).

    Raises ConfigError (``url`` is not a SQLAlchemy URL or names a driver that is not installed) or
    StoreUnavailableError (the database cannot be reached; nothing was created), whose subclass
    DatabaseDamagedError means the SQLite file is corrupted or empty where one existed.
    """

    def __init__(self, url: str | None = None, *, max_failed_logins: int = logins.LoginRules.max_failed_logins,
                 lockout_minutes: float = logins.LoginRules.lockout_minutes,
                 session_timeout_minutes: float | None = None, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES, password_hasher: PasswordHasher | None = None,
                 confirm_empty: bool = False) -> None:
        for name, value, low in (("max_failed_logins", max_failed_logins, 1), ("lockout_minutes", lockout_minutes, 0),
                                 ("session_timeout_minutes", session_timeout_minutes, 0),
                                 ("busy_timeout_s", busy_timeout_s, 0), ("retries", retries, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < low):
                raise ConfigError(f"{name} must be a number of at least {low}; got {value!r}", key="err_front_name_number_least_low", name=name, low=low, value=value)
        self._gateway = Gateway(url, busy_timeout_s=busy_timeout_s, retries=retries)
        self.max_failed_logins = max_failed_logins
        self.lockout_minutes = lockout_minutes
        self.session_timeout_minutes = (get_settings().session_timeout_minutes
                                        if session_timeout_minutes is None else session_timeout_minutes)
        self._passwords = Passwords(password_hasher or PasswordHasher())
        self._rules = logins.LoginRules(max_failed_logins=max_failed_logins, lockout_minutes=lockout_minutes,
                                        free_failures=max_failed_logins)
        url_object = self._gateway.sqlalchemy_url
        self._secret = Secret(private_folder(url_object))
        marker, file = marker_path(url_object), sqlite_file(url_object)
        try:
            if file is not None:
                prepare_sqlite(file, marker, confirm_empty)
            if (marker is not None and marker.exists() and not confirm_empty
                    and not self._gateway.run(maintenance.has_schema, write=False)):
                raise damaged(EMPTY)
            self.revision = self.migrate()
            write_marker(marker)
            if file is not None:
                self._gateway.identity = FileIdentity.of(file)
        except BaseException:
            self.close()
            raise

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The database URL with its password hidden (safe to show and to log)."""
        return self._gateway.url

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"`` (or another SQLAlchemy backend name)."""
        return self._gateway.dialect

    @property
    def _engine(self) -> Engine:
        # For tests that inspect or fault-inject connections (PRAGMAs, a full disk); verbs never use it.
        return self._gateway.engine

    def migrate(self) -> str:
        """Upgrade the schema to the newest Alembic revision (safe from several processes); returns it."""
        return self._gateway.migrate()

    def close(self) -> None:
        """Close every pooled connection (the store can still be used; it reconnects on demand)."""
        self._gateway.close()

    # -- care (maintenance.py) -------------------------------------------------------------------
    def integrity_check(self) -> list[str]:
        """Problems found in the database file (empty list: sound); see :mod:`.maintenance`."""
        self._gateway.run(lambda s: None, write=False)  # a vanished or unreadable file says so first
        return maintenance.integrity_check(self._gateway.engine)

    def backup(self, target: str | Path) -> Path:
        """A consistent online copy of the SQLite database at ``target`` (PostgreSQL: use pg_dump)."""
        self._gateway.run(lambda s: None, write=False)
        return maintenance.backup(self._gateway.engine, Path(target))

    def restore(self, source: str | Path) -> str:
        """Put the backup ``source`` in place of the database's content (checked whole first), then
        upgrade it to the current schema; returns the revision."""
        maintenance.restore(self._gateway.engine, Path(source))
        self.close()
        self.revision = self.migrate()
        return self.revision

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    # -- users (users.py) ------------------------------------------------------------------------
    def add_user(self, name: str, role: str, partner: str | None = None, password: str | None = None, *,
                 actor: str = "system") -> tuple[User, str | None]:
        """Create a user; returns ``(user, generated_password)`` (see :func:`.users.add_user`)."""
        return self._gateway.run(lambda s: users.add_user(s, self._passwords, name, role, partner, password,
                                                          actor=actor))

    def ensure_first_admin(self, name: str = "admin") -> tuple[User, str] | None:
        """On a store with no users, create admin ``name`` with a random password and return both;
        None when any user exists (every install gets its own password; none is built in)."""
        if self._gateway.run(users.has_users, write=False):
            return None
        try:
            user, password = self.add_user(name, "admin", actor="first-start")
        except ConflictError:
            return None
        return user, password or ""

    def list_users(self) -> list[User]:
        """All users (disabled ones too), by name."""
        return self._gateway.run(users.list_users, write=False)

    def get_user(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        return self._gateway.run(lambda s: users.get_user(s, name), write=False)

    def disable_user(self, name: str, *, actor: str = "system") -> User:
        """Disable a login for good and end its open sessions (users are never deleted)."""
        return self._gateway.run(lambda s: users.disable_user(s, name, actor=actor))

    def enable_user(self, name: str, *, actor: str = "system") -> User:
        """Let a disabled user sign in again (:func:`.users.enable_user`)."""
        return self._gateway.run(lambda s: users.enable_user(s, name, actor=actor))

    def set_role(self, name: str, role: str, partner: str | None = None, *, actor: str = "system") -> User:
        """Give ``name`` another role (and partner); its sessions end (:func:`.users.set_role`)."""
        return self._gateway.run(lambda s: users.set_role(s, name, role, partner, actor=actor))

    def reset_password(self, name: str, *, actor: str = "system") -> str:
        """Give ``name`` a new random password (returned once), clear its lockout, end its sessions."""
        return self._gateway.run(lambda s: users.reset_password(s, self._passwords, name, actor=actor))

    def authenticate(self, name: str, password: str, now: datetime | None = None, *,
                     client: str | None = None) -> User:
        """The user, when ``password`` is right (see :mod:`.logins` for what a refusal says).

        ``client`` identifies where the attempt comes from (the browser's address; the app passes
        it, kept only as a keyed hash). Without one (the CLI), nothing is throttled and an account
        lock binds the caller. Every attempt is audited (``login`` / ``login.failed``).

        Raises
        ------
        LoginError
            (an AuthError) ``wrong user name or password`` for an unknown name and a wrong password
            alike; ``too many failed logins from this connection`` while the client must wait; the
            lock or the disabled account only after the right password.
        """
        now = aware(now)
        name = name.strip() if isinstance(name, str) else ""
        password = password if isinstance(password, str) else ""
        client_key = self._secret.digest("client", client) if isinstance(client, str) and client else None
        until = self._gateway.run(lambda s: logins.client_wait(s, client_key, now), write=False)
        if until is not None:  # refused before the (slow) password check: waiting costs the server nothing
            raise self._gateway.run(lambda s: logins.record_throttled(s, name, client_key, until, now,
                                                                      self.masked_name))
        # argon2 is slow on purpose: check outside any transaction so no lock is held meanwhile;
        # record_login applies the outcome only if the row still holds the hash that was checked.
        seen = self._gateway.run(lambda s: users.password_hash_of(s, name), write=False)
        check = self._passwords.check(seen, password)
        outcome = self._gateway.run(lambda s: logins.record_login(s, name, check, now, client_key, self.masked_name,
                                                                  self._rules))
        if outcome.user is None:  # the failure is committed (counts, lock, audit) before raising
            raise outcome.error
        return outcome.user

    def masked_name(self, name: str) -> str:
        """How the audit log names a user name that is not a user: ``unknown:`` and 16 hex characters
        of its keyed hash (the same name always gives the same text; the name cannot be read back)."""
        return "unknown:" + self._secret.digest("user", name)[:16]

    def unlock_user(self, name: str, *, actor: str = "system") -> User:
        """End ``name``'s login lock at once (:func:`.logins.unlock_user`)."""
        return self._gateway.run(lambda s: logins.unlock_user(s, name, actor=actor))

    def start_session(self, user: User | str, now: datetime | None = None, *, user_agent: str | None = None) -> str:
        """A new random session token for an active user (only its sha256 is stored), bound to
        ``user_agent`` (the browser's User-Agent header) when given."""
        return self._gateway.run(lambda s: users.start_session(s, user, now, user_agent))

    def session_user(self, token: str | None, now: datetime | None = None,
                     timeout_minutes: float | None = None, *, user_agent: str | None = None) -> User | None:
        """The user of a live session, refreshing its last activity (at most once a minute); None when
        unknown or over.

        A session is over once ended, once its user is disabled, or after ``timeout_minutes``
        (default: the store's ``session_timeout_minutes``) without activity; the timed-out session
        is then ended for good. A session started with a User-Agent answers only to the same one
        (``user_agent``); to any other it is None, and stays valid for its own browser.
        """
        if not token or not isinstance(token, str):
            return None
        now = aware(now)
        timeout = timedelta(minutes=self.session_timeout_minutes if timeout_minutes is None else timeout_minutes)
        # Every page run asks; only a stale last_seen (or an ending session) takes the write lock, so
        # many users clicking at once do not queue on SQLite's single writer.
        seen = self._gateway.run(lambda s: users.peek_session(s, token, now, timeout, user_agent), write=False)
        if seen is False:
            return self._gateway.run(lambda s: users.touch_session(s, token, now, timeout, user_agent))
        return seen

    def issue_login_ticket(self, user: User | str, now: datetime | None = None, *,
                           user_agent: str | None = None) -> str:
        """A one-time ticket (a minute) that an HTTP route exchanges for an HttpOnly session cookie
        (:mod:`.tickets`)."""
        return self._gateway.run(lambda s: tickets.issue_ticket(s, user, now, user_agent))

    def redeem_login_ticket(self, ticket: str | None, now: datetime | None = None, *,
                            user_agent: str | None = None) -> str | None:
        """The token of a new session for a valid ticket, once; None otherwise (:mod:`.tickets`)."""
        return self._gateway.run(lambda s: tickets.redeem_ticket(s, ticket, now, user_agent))

    def end_session(self, token: str | None, now: datetime | None = None) -> None:
        """Log out: the session ends for good (unknown or already ended tokens are ignored)."""
        self._gateway.run(lambda s: users.end_session(s, token, now))

    # -- policies (policies.py) ------------------------------------------------------------------
    def save_draft(self, policy_name: str, payload: Mapping[str, Any], user: User | str,
                   base_version: int | None = None) -> PolicyVersion:
        """Create or update ``user``'s draft of ``policy_name`` (see :func:`.policies.save_draft`)."""
        return self._gateway.run(lambda s: policies.save_draft(s, policy_name, payload, user, base_version))

    def discard_draft(self, draft_id: int, user: User | str) -> None:
        """Throw away ``user``'s own draft (published versions cannot be discarded)."""
        return self._gateway.run(lambda s: policies.discard_draft(s, draft_id, user))

    def publish(self, policy_name: str, draft_id: int, user: User | str,
                expected_base_version: int | None, note: str | None = None) -> PolicyVersion:
        """Publish draft ``draft_id`` as the next version of ``policy_name`` with ``note`` (why);
        ConflictError (the draft kept) when someone published after ``expected_base_version`` (see
        :func:`.policies.publish`)."""
        return self._gateway.run_versioned(
            lambda s: policies.publish(s, policy_name, draft_id, user, expected_base_version, note),
            lambda s: policies.publish_conflict(s, policy_name, expected_base_version), policies.VERSION_CONSTRAINTS)

    def published_policy(self, name: str) -> PolicyVersion | None:
        """The newest published version of policy ``name``, or None before the first publication."""
        return self._gateway.run(lambda s: policies.published_policy(s, name), write=False)

    def policy_version(self, name: str, version: int) -> PolicyVersion | None:
        """Published version ``version`` of policy ``name``, or None."""
        return self._gateway.run(lambda s: policies.policy_version(s, name, version), write=False)

    def policy_history(self, name: str, include_drafts: bool = False) -> list[PolicyVersion]:
        """Published versions of ``name``, oldest first; then open drafts when asked."""
        return self._gateway.run(lambda s: policies.policy_history(s, name, include_drafts), write=False)

    def draft_for(self, policy_name: str, user: User | str) -> PolicyVersion | None:
        """``user``'s open draft of ``policy_name`` (e.g. the one kept after a conflict), or None."""
        return self._gateway.run(lambda s: policies.draft_for(s, policy_name, user), write=False)

    def open_drafts(self, policy_name: str) -> list[PolicyVersion]:
        """Every user's open draft of ``policy_name``, newest first (see :func:`.policies.open_drafts`)."""
        return self._gateway.run(lambda s: policies.open_drafts(s, policy_name), write=False)

    def list_policies(self) -> list[str]:
        """Names of all policies (with or without a published version), sorted."""
        return self._gateway.run(policies.list_policies, write=False)

    # -- decisions (decisions.py) ----------------------------------------------------------------
    def save_decision(self, merchant_id: str, decision: str, note: str, user: User | str, score: float,
                      grade: int, pd: float, reason_codes: Any, policy_name: str | None,
                      policy_version: int | None, model_version: str,
                      supersedes: int | Decision | None = None, *, require_current: bool = False) -> Decision:
        """Record an officer's decision with the score, reasons and policy version at this moment
        (see :func:`.decisions.save_decision`); returns the stored decision."""
        return self._gateway.run(lambda s: decisions.save_decision(
            s, merchant_id, decision, note, user, score, grade, pd, reason_codes, policy_name, policy_version,
            model_version, supersedes, require_current=require_current))

    def decisions_for(self, merchant_id: str) -> list[Decision]:
        """Every decision about ``merchant_id``, oldest first (superseded ones included and marked)."""
        return self._gateway.run(lambda s: decisions.decisions_for(s, merchant_id), write=False)

    def list_decisions(self, filters: Mapping[str, Any] | None = None, limit: int = 1000) -> list[Decision]:
        """Decisions newest first, at most ``limit`` (filters: :func:`.decisions.list_decisions`)."""
        return self._gateway.run(lambda s: decisions.list_decisions(s, filters, limit), write=False)

    # -- audit (audit.py) ------------------------------------------------------------------------
    def audit(self, user: User | str, action: str, entity: str, entity_id: Any = None, before: Any = None,
              after: Any = None) -> AuditEntry:
        """Append an entry for something that changes nothing else in the store (an export, a data load).

        Verbs that change the store write their own entry in the same transaction as the change.
        """
        return self._gateway.run(lambda s: audit.audit(s, user, action, entity, entity_id, before, after))

    def audit_log(self, filters: Mapping[str, Any] | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Audit entries newest first, at most ``limit``; read-only (filters: :func:`.audit.audit_log`)."""
        return self._gateway.run(lambda s: audit.audit_log(s, filters, limit), write=False)

    # -- merchants' requests (requests.py) -------------------------------------------------------
    def open_request(self, merchant_id: str, kind: str, details: str, user: User | str,
                     received_at: datetime | None = None, *, known_merchants: Container[str] | None = None
                     ) -> MerchantRequest:
        """Log a merchant's request; it is due 30 days after it was received; an id not in
        ``known_merchants`` (the book's ids) is refused (:func:`.requests.open_request`)."""
        return self._gateway.run(lambda s: requests.open_request(s, merchant_id, kind, details, user, received_at,
                                                                 known_merchants))

    def update_request(self, request_id: int, status: str, resolution: str | None, user: User | str,
                       now: datetime | None = None) -> MerchantRequest:
        """Move a request to ``in_progress`` or ``resolved`` (final), with its resolution text; a human
        review needs a substantive reason (:func:`.requests.update_request`)."""
        return self._gateway.run(lambda s: requests.update_request(s, request_id, status, resolution, user, now))

    def list_requests(self, overdue_only: bool = False, now: datetime | None = None, *, status: str | None = None,
                      merchant_id: str | None = None) -> list[MerchantRequest]:
        """Requests by due date (soonest first), each flagged ``overdue`` as of ``now``."""
        return self._gateway.run(lambda s: requests.list_requests(s, overdue_only, now, status=status,
                                                                  merchant_id=merchant_id), write=False)

    # -- product catalog (products.py) -----------------------------------------------------------
    def save_products(self, records: Iterable[Mapping[str, Any]], user: User | str,
                      expected_version: int | None) -> int:
        """Validate ``records`` and save them as the next catalog version; returns its number.

        SchemaError (every problem) for a bad catalog, ConflictError when someone saved after
        ``expected_version`` (see :func:`.products.save_products`); nothing is saved then.
        """
        expected = products.check_expected(expected_version)
        catalog = products.checked_catalog(records)  # once, outside the transaction and its retries
        return self._gateway.run_versioned(lambda s: products.save_products(s, catalog, user, expected),
                                           lambda s: products.save_conflict(s, expected),
                                           products.VERSION_CONSTRAINTS)

    def current_products(self) -> tuple[int, list[dict[str, Any]]] | None:
        """``(version, catalog)`` of the newest saved version, or None when none was saved yet."""
        return self._gateway.run(products.current_products, write=False)

    def product_version(self, version: int) -> ProductCatalogVersion | None:
        """Saved catalog version ``version``, or None."""
        return self._gateway.run(lambda s: products.product_version(s, version), write=False)

    def product_history(self) -> list[ProductCatalogVersion]:
        """Every saved catalog version, oldest first."""
        return self._gateway.run(products.product_history, write=False)

    # -- watch actions (watch.py) ----------------------------------------------------------------
    def record_watch_action(self, merchant_id: str, loan_id: str | None, action: str, note: str | None,
                            user: User | str, now: datetime | None = None, **options: Any) -> WatchAction:
        """An audited watch action on a merchant; see :func:`.watch.record_watch_action`."""
        return self._gateway.run(lambda s: watch.record_watch_action(s, merchant_id, loan_id, action, note, user,
                                                                     now, **options))

    def watch_actions(self, merchant_id: str) -> list[WatchAction]:
        """Every watch action on ``merchant_id``, oldest first."""
        return self._gateway.run(lambda s: watch.watch_actions(s, merchant_id), write=False)

    def frozen_merchants(self) -> dict[str, WatchAction]:
        """Merchants whose new offers are frozen now: merchant id -> the freeze in force."""
        return self._gateway.run(watch.frozen_merchants, write=False)
