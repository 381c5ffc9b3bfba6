"""The store's plumbing: one :class:`Gateway` per :class:`~cb_core.store.Store`, one transaction per verb.

* :meth:`Gateway.run` runs ``work(session)`` (a verb function) in one transaction, committed whole
  or rolled back whole. Transient lock errors (SQLite "database is locked", PostgreSQL
  serialization failures and deadlocks) are retried; a database that cannot be reached becomes
  :class:`~cb_core.errors.StoreUnavailableError` with the URL's password hidden and no chained
  driver traceback. :meth:`Gateway.run_versioned` adds optimistic locking for versioned records.
* SQLite: WAL journal, a busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` for writing
  transactions so two writers queue on the lock instead of failing half-way through.
* PostgreSQL: ``pool_pre_ping`` so connections broken by a server restart are replaced on the
  next checkout; rows that decide a conflict are read ``FOR UPDATE``, and :func:`xact_lock` takes
  an advisory lock where no row exists yet to lock.
* :meth:`Gateway.migrate` upgrades the schema to Alembic's head, serialised between processes.
* :func:`write_audit` adds the audit entry of a change to the change's own transaction.
"""
from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (ArgumentError, DBAPIError, IntegrityError, InterfaceError, NoSuchModuleError,
                            OperationalError)
from sqlalchemy.orm import Session, sessionmaker

from ..config import Settings, get_settings, state_dir
from ..errors import CBError, ConfigError, StoreUnavailableError
from ._files import CORRUPT, FileIdentity, damaged
from ._values import aware, clean_text, json_document
from .tables import NAME_LENGTH, AuditRow

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_BUSY_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 8
PG_CONNECT_TIMEOUT_S = 5
# pg_advisory_xact_lock key that serialises concurrent migrate() calls ("CBMIGRAT" as an int64).
_MIGRATE_LOCK_KEY = 0x43424D4947524154
_ALEMBIC_LOCK = threading.Lock()
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def default_url(settings: Settings | None = None) -> str:
    """``database_url`` from the settings, or the SQLite file ``<state_dir>/cb.sqlite`` when it is empty."""
    settings = settings or get_settings()
    return settings.database_url or f"sqlite:///{state_dir(settings) / 'cb.sqlite'}"


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _make_engine(url: URL, busy_timeout_s: float) -> Engine:
    if _is_sqlite(url):
        engine = create_engine(url, pool_pre_ping=True,
                               connect_args={"timeout": busy_timeout_s, "check_same_thread": False})
        busy_ms = int(busy_timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN (pysqlite's own handling skips it for SELECT).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (f"busy_timeout = {busy_ms}", "journal_mode = WAL", "synchronous = NORMAL",
                           "foreign_keys = ON"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A writer takes the write lock up front: waiting for it honours the busy timeout, whereas
            # upgrading a read lock later fails at once with "database is locked".
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("cb_write") else "BEGIN")

        return engine
    connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S} if url.get_backend_name() == "postgresql" else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def xact_lock(session: Session, key: int) -> None:
    """Serialise writers on ``key`` until ``session``'s transaction ends: a PostgreSQL advisory lock;
    nothing on SQLite, where a writing transaction already holds the one write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def write_audit(session: Session, user: str, action: str, entity: str, entity_id: Any, before: Any = None,
                after: Any = None, at: datetime | None = None) -> AuditRow:
    """Add an audit entry to ``session``'s transaction, so it commits or rolls back with the change."""
    row = AuditRow(at=aware(at), user_name=clean_text(user, "audit user", max_length=NAME_LENGTH),
                   action=clean_text(action, "audit action", max_length=64),
                   entity=clean_text(entity, "audit entity", max_length=64),
                   entity_id=None if entity_id is None else clean_text(str(entity_id), "audit entity_id",
                                                                        max_length=NAME_LENGTH),
                   before=json_document(before, "audit before"), after=json_document(after, "audit after"))
    session.add(row)
    return row


class Gateway:
    """The engine of one database: transactions, retries, error translation, migrations, closing.

    The :class:`~cb_core.store.Store` holds one and runs every verb function through :meth:`run`
    (or :meth:`run_versioned`); nothing else in the project opens a session.
    """

    def __init__(self, url: str | None = None, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES) -> None:
        raw = url or default_url()  # "" is what an unset database_url setting holds
        try:
            self._url = make_url(raw)
        except ArgumentError:
            raise ConfigError(f"database_url is not a SQLAlchemy URL (like sqlite:///path/cb.sqlite or "
                              f"postgresql+psycopg://user@host/db); got {_hide_password(str(raw))!r}", key="err_gateway_database_url_sqlalchemy_url", value=_hide_password(str(raw))) from None
        try:
            self._engine = _make_engine(self._url, busy_timeout_s)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(f"no database driver for {self.url}: {exc}", key="err_gateway_database_driver_url_exc", url=self.url, exc=exc) from None
        self._retries = retries
        #: Set by the store once it has opened a SQLite file: checked before every transaction.
        self.identity: FileIdentity | None = None
        self._readers = sessionmaker(self._engine, expire_on_commit=False)
        self._writers = sessionmaker(self._engine.execution_options(cb_write=True), expire_on_commit=False)

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The database URL with its password hidden (safe to show and to log)."""
        return self._url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"`` (or another SQLAlchemy backend name)."""
        return self._url.get_backend_name()

    @property
    def sqlalchemy_url(self) -> URL:
        """The parsed URL (password included: for the store's own files, never for showing)."""
        return self._url

    def close(self) -> None:
        """Close every pooled connection (the store can still be used; it reconnects on demand)."""
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for the store's tests; verbs get a session from :meth:`run`)."""
        return self._engine

    def migrate(self) -> str:
        """Upgrade the schema to the newest Alembic revision; returns that revision.

        Safe to call from several processes at once: the upgrade runs in one transaction holding
        the write lock (SQLite) or an advisory lock (PostgreSQL), so the second caller finds the
        schema current. Nothing is changed when it already is.
        """
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
        config.set_main_option("path_separator", "os")

        def upgrade(session: Session) -> str:
            connection = session.connection()
            xact_lock(session, _MIGRATE_LOCK_KEY)
            config.attributes["connection"] = connection
            with _ALEMBIC_LOCK:  # alembic.context is one proxy per process: one command at a time
                command.upgrade(config, "head")
            return ScriptDirectory.from_config(config).get_current_head() or ""

        return self.run(upgrade)

    # -- transactions ----------------------------------------------------------------------------
    def run(self, work: Callable[[Session], T], *, write: bool = True,
            on_integrity: Callable[[IntegrityError], CBError | None] | None = None) -> T:
        """``work(session)`` in one transaction: all of it is committed, or none of it.

        Parameters
        ----------
        work
            Does the reads and writes (a verb function with its arguments bound); its return value
            is returned. It must not commit. It runs again when a transient error is retried.
        write
            False for read-only verbs (SQLite then does not take the write lock).
        on_integrity
            Turns a constraint violation (the database's last word in a race) into the engine's
            error, e.g. :class:`~cb_core.errors.ConflictError`; None re-raises it.
        """
        sessions = self._writers if write else self._readers
        for attempt in range(self._retries + 1):
            if self.identity is not None:
                self.identity.check()  # never write into a deleted or replaced file
            try:
                with sessions() as session, session.begin():
                    return work(session)
            except IntegrityError as exc:
                mapped = on_integrity(exc) if on_integrity else None
                if mapped is None:
                    raise
                raise mapped from None
            except DBAPIError as exc:
                if _is_corrupt(exc):
                    raise damaged(CORRUPT) from None
                if _is_transient(exc) and attempt < self._retries:
                    delay = min(0.5, 0.01 * 2 ** attempt) * (0.5 + random.random())
                    log.info("store: transient %s, retry %d in %.3f s", _reason(exc), attempt + 1, delay)
                    time.sleep(delay)
                    continue
                if isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated:
                    raise self._unavailable(exc) from None
                raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def run_versioned(self, work: Callable[[Session], T], conflict: Callable[[Session], CBError],
                      constraints: tuple[str, ...]) -> T:
        """``work`` for a versioned record (optimistic locking): ``work`` raises ``conflict(session)``
        when the newest version is not the one the user started from; a race that slips past that
        check ends on one of the unique ``constraints`` (names as SQLite and PostgreSQL report them),
        and becomes the same ``conflict``, read afresh."""
        def on_integrity(exc: IntegrityError) -> CBError | None:
            if not any(name in str(exc.orig) for name in constraints):
                return None
            return self.run(conflict, write=False)

        return self.run(work, on_integrity=on_integrity)

    def _unavailable(self, exc: DBAPIError) -> StoreUnavailableError:
        reason = _hide_password(_reason(exc))
        if self._url.password:
            reason = reason.replace(str(self._url.password), "***")
        if "disk is full" in reason or "No space left" in reason:
            return StoreUnavailableError(f"the database at {self.url} is full: {reason}; nothing was saved",
                                         key="err_store_full", reason=reason)
        return StoreUnavailableError(f"the database at {self.url} cannot be reached: {reason}; nothing was saved",
                                     key="err_store_unreachable", reason=reason)


def _reason(exc: DBAPIError) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def _hide_password(value: str) -> str:
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", value)


def _is_corrupt(exc: DBAPIError) -> bool:
    message = str(getattr(exc, "orig", None) or exc).lower()
    return "file is not a database" in message or "database disk image is malformed" in message


def _is_transient(exc: DBAPIError) -> bool:
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message


def head_revision() -> str:
    """The newest Alembic revision shipped in ``migrations/`` (what ``migrate()`` upgrades to)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return str(ScriptDirectory.from_config(config).get_current_head())
