"""Database care for ``python -m cb_core db ...``: emptiness, integrity check, online backup, restore.

SQLite: :func:`integrity_check` runs ``PRAGMA integrity_check``; :func:`backup` copies the live
database page by page with SQLite's online backup API (consistent while the app keeps writing);
:func:`restore` checks a backup file whole (integrity, and that it is a store database) before
copying it over the live database the same way. PostgreSQL has its own tools for this
(``pg_amcheck``, ``pg_dump``, ``pg_restore``): these functions say so instead of half-doing it.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from ..errors import ConfigError, DataSourceError
from ._files import FILE_MODE

__all__ = ["backup", "has_schema", "integrity_check", "restore"]

PG_TOOLS = ("for PostgreSQL use its own tools: pg_dump -Fc -f FILE DBNAME to back up, pg_restore --clean -d DBNAME "
            "FILE to restore, pg_amcheck DBNAME to check")


def has_schema(session: Session) -> bool:
    """Whether the database holds the store's tables (an Alembic version table), i.e. is not empty."""
    return inspect(session.connection()).has_table("alembic_version")


def _sqlite_only(engine: Engine, what: str) -> None:
    if engine.dialect.name != "sqlite":
        raise ConfigError(f"{what} works on the SQLite database only; {PG_TOOLS}", key="err_maintenance_what_works_sqlite_database", what=what, PG_TOOLS=PG_TOOLS)


def integrity_check(engine: Engine) -> list[str]:
    """Problems SQLite finds in the whole database file (empty: sound). PostgreSQL: a round trip only."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            conn.exec_driver_sql("SELECT 1")
            return []
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
    return [] if rows == ["ok"] else rows


def backup(engine: Engine, target: Path) -> Path:
    """A consistent copy of the live SQLite database at ``target`` (0600; refused if it exists)."""
    _sqlite_only(engine, "db backup")
    target = Path(target)
    if target.exists():
        raise ConfigError(f"{target} exists already; give a new file name (a backup never overwrites a file)", key="err_maintenance_target_exists_already_give", target=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=FILE_MODE)
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(dest)
        finally:
            dest.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        raw.close()
    return target


def check_backup(source: Path) -> None:
    """DataSourceError unless ``source`` is a sound SQLite file holding a store database."""
    source = Path(source)
    if not source.is_file():
        raise DataSourceError(f"{source}: no such file", key="err_maintenance_source_such_file", source=source)
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise DataSourceError(f"{source}: not a readable SQLite database ({exc})", key="err_maintenance_source_readable_sqlite_database", source=source, exc=exc) from None
    if rows != ["ok"]:
        raise DataSourceError(f"{source}: damaged ({'; '.join(rows[:5])})", key="err_maintenance_source_damaged_rows", source=source, rows='; '.join(rows[:5]))
    if not {"alembic_version", "users", "audit_log"} <= tables:
        raise DataSourceError(f"{source}: not a Merchant CB database (no users/audit_log/alembic_version tables)", key="err_maintenance_source_merchant_cb_database", source=source)


def restore(engine: Engine, source: Path) -> None:
    """Replace the live SQLite database's content with the backup ``source`` (checked first; the
    live file keeps its name and permissions, so a running app sees the restored data)."""
    _sqlite_only(engine, "db restore")
    check_backup(source)
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True) as src:
            src.backup(raw.driver_connection)
    finally:
        raw.close()
