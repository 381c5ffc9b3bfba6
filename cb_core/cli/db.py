"""``python -m cb_core db ...``: the app database's care (init, check, backup, restore).

``db init --confirm-empty`` is the one way past a store's refusal to open an empty database where
one existed before (the marker in the state folder); ``db check`` runs SQLite's integrity check;
``db backup FILE`` takes a consistent copy while the app runs (SQLite's online backup API);
``db restore FILE`` checks a backup whole and puts it back. On PostgreSQL, backup and restore
say to use ``pg_dump``/``pg_restore``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

URL_HELP = "SQLAlchemy URL (default: CB_DATABASE_URL or the SQLite file in the state folder)"


def _cmd_db(args: argparse.Namespace) -> int:
    from ..errors import StoreUnavailableError
    from ..store import Store

    if args.db_command == "init" and not args.confirm_empty:
        from ..errors import ConfigError

        raise ConfigError("db init only confirms an empty database where one existed; add --confirm-empty if the "
                          "users, decisions and audit log that were there are really to start afresh")
    store = Store(args.database_url or None, confirm_empty=args.db_command in ("init", "restore"))
    try:
        if args.db_command == "init":
            created = store.ensure_first_admin()
            out: dict = {"database": store.url, "revision": store.revision, "confirmed_empty": True}
            print(json.dumps(out, ensure_ascii=False))
            if created:
                print(f"created user '{created[0].name}' (admin), password (shown once): {created[1]}")
        elif args.db_command == "check":
            problems = store.integrity_check()
            print(json.dumps({"database": store.url, "ok": not problems, "problems": problems[:20]},
                             ensure_ascii=False))
            if problems:
                raise StoreUnavailableError(f"the database at {store.url} is damaged: {'; '.join(problems[:5])}; "
                                            "restore a backup with python -m cb_core db restore FILE")
        elif args.db_command == "backup":
            target = store.backup(Path(args.file))
            print(json.dumps({"database": store.url, "backup": str(target)}, ensure_ascii=False))
        elif args.db_command == "restore":
            revision = store.restore(Path(args.file))
            print(json.dumps({"database": store.url, "restored": args.file, "revision": revision},
                             ensure_ascii=False))
    finally:
        store.close()
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``db`` and its sub-commands."""
    p = sub.add_parser("db", help="the app database: confirm an empty one, check, back up, restore")
    p.add_argument("--database-url", help=URL_HELP)
    db = p.add_subparsers(dest="db_command", required=True)
    m = db.add_parser("init", help="accept an empty database where one existed before (it is refused otherwise)")
    m.add_argument("--confirm-empty", action="store_true",
                   help="yes: the users, decisions and audit log that were there start afresh")
    db.add_parser("check", help="integrity check of the whole database file (exit 2 when damaged)")
    m = db.add_parser("backup", help="a consistent copy of the live SQLite database (PostgreSQL: use pg_dump)")
    m.add_argument("file", help="new file to write (never overwritten)")
    m = db.add_parser("restore", help="check a backup whole, then put it in place of the database's content")
    m.add_argument("file", help="a file written by db backup")
    p.set_defaults(func=_cmd_db)
