"""The one gateway to the app database: users, sessions, policies, decisions, audit log, requests.

Nothing else in the project writes SQL. :class:`Store` owns the SQLAlchemy engine and exposes
verbs; each verb is one transaction (all of it is saved or none of it) and returns frozen records
(:mod:`cb_core.store.records`), never live ORM objects. Every change a verb makes is audited in the
same transaction. Decisions and audit entries are append-only and published policy versions are
immutable: no verb updates or deletes them, and the database's triggers refuse it as well.

The verbs live in one module per concern, mixed into :class:`Store`:

======================  =====================================================================
``store_users``         add_user, ensure_first_admin, list_users, get_user, disable_user,
                        reset_password, authenticate, start_session, session_user, end_session
``store_policies``      save_draft, discard_draft, publish, published_policy, policy_version,
                        policy_history, draft_for, list_policies
``store_decisions``     save_decision, decisions_for, list_decisions, audit, audit_log
``store_requests``      open_request, update_request, list_requests
``store_products``      save_products, current_products, product_version, product_history
``store_gateway``       engine, transactions and retries, error translation, migrate, close
``store_schema``        the SQLAlchemy models; ``migrations/`` the Alembic revisions
======================  =====================================================================

Errors: :class:`~cb_core.errors.StoreUnavailableError` when the database cannot be reached (the
store reconnects by itself once it is back), :class:`~cb_core.errors.ConflictError` when someone
else changed the same thing first, :class:`~cb_core.errors.AuthError` for logins and unknown or
disabled users, :class:`~cb_core.errors.PolicyError` for unknown policies and versions,
:class:`~cb_core.errors.ConfigError` for any other bad input.
"""
from __future__ import annotations

from argon2 import PasswordHasher

from ..config import get_settings
from ..errors import ConfigError
from ._gateway import DEFAULT_BUSY_TIMEOUT_S, DEFAULT_RETRIES, default_url
from .records import AuditEntry, Decision, MerchantRequest, PolicyVersion, User
from .products import ProductVerbs
from .requests import RequestVerbs
from .users import LOCKOUT_MINUTES, MAX_FAILED_LOGINS

__all__ = ["AuditEntry", "Decision", "MerchantRequest", "PolicyVersion", "Store", "User", "default_url"]


class Store(ProductVerbs, RequestVerbs):
    """The app database behind verbs; opening one upgrades the schema to the newest revision.

    Parameters
    ----------
    url
        SQLAlchemy URL; None = the ``database_url`` setting (``CB_DATABASE_URL``) or, when that is
        empty, the SQLite file ``<state_dir>/cb.sqlite``.
    max_failed_logins, lockout_minutes
        Wrong passwords in a row that lock an account, and for how long.
    session_timeout_minutes
        Inactivity that ends a session; None = the ``session_timeout_minutes`` setting.
    busy_timeout_s, retries
        How long a SQLite writer waits for the write lock, and how often a transaction that lost
        a lock race (SQLite busy, PostgreSQL serialization failure or deadlock) is retried.
    password_hasher
        The argon2id hasher; None = argon2-cffi's defaults (RFC 9106 low-memory profile).

    Raises
    ------
    ConfigError
        ``url`` is not a SQLAlchemy URL or names a driver that is not installed.
    StoreUnavailableError
        The database cannot be reached (nothing was created).
    """

    def __init__(self, url: str | None = None, *, max_failed_logins: int = MAX_FAILED_LOGINS,
                 lockout_minutes: float = LOCKOUT_MINUTES, session_timeout_minutes: float | None = None,
                 busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, retries: int = DEFAULT_RETRIES,
                 password_hasher: PasswordHasher | None = None) -> None:
        for name, value, low in (("max_failed_logins", max_failed_logins, 1), ("lockout_minutes", lockout_minutes, 0),
                                 ("session_timeout_minutes", session_timeout_minutes, 0),
                                 ("busy_timeout_s", busy_timeout_s, 0), ("retries", retries, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < low):
                raise ConfigError(f"{name} must be a number of at least {low}; got {value!r}")
        super().__init__(url, busy_timeout_s=busy_timeout_s, retries=retries)
        self.max_failed_logins = max_failed_logins
        self.lockout_minutes = lockout_minutes
        self.session_timeout_minutes = (get_settings().session_timeout_minutes
                                        if session_timeout_minutes is None else session_timeout_minutes)
        self._hasher = password_hasher or PasswordHasher()
        try:
            self.revision = self.migrate()
        except BaseException:
            self.close()
            raise
