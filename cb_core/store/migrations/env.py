"""Alembic environment of the store.

``Store.migrate()`` passes an open connection (inside its transaction, holding the migration lock)
in ``config.attributes["connection"]``. The ``alembic`` command line (see alembic.ini here) gets
none and connects to the database the app would use.
"""
from __future__ import annotations

from alembic import context

from cb_core.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("cb_core migrations run online only (Store.migrate() or the alembic command with a database)")

_connection = config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    from sqlalchemy import create_engine, pool

    from cb_core.store._gateway import default_url

    _engine = create_engine(default_url(), poolclass=pool.NullPool)
    with _engine.begin() as _conn:
        _run(_conn)
    _engine.dispose()
