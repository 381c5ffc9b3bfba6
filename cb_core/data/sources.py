"""Where books come from and go to: folders of CSV/Parquet files, uploads, SQL databases.

Every reader hands the raw tables to :func:`cb_core.data.schema.validate_tables`, so a book is either
loaded whole and valid or not at all. Reading one file (CSV as all-strings, so that a bad value is
reported at its row; encodings; size and line-length limits) is :mod:`cb_core.data._files`.
Writes are atomic: a book folder is written next to its destination and renamed into place, and
the current-book pointer is replaced in one rename (:mod:`cb_core.diskio`).
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

from .book import REQUIRED_TABLES, TABLES, Book
from ..config import Settings, get_settings
from ..diskio import disk_errors, fsync_path, make_private, write_text_atomic
from .retention import prune_books
from ..errors import ConfigError, DataSourceError
from ._files import _read_file, _read_files
from ._installed import _digests, _stored_book, part_rows
from ..lazy import LazyModule

pd = LazyModule("pandas")

__all__ = ["FORMATS", "TRUSTED", "load_current", "open_book", "read_book", "save_current", "write_book"]

#: File formats a book can be written in (and read from).
FORMATS: tuple[str, ...] = ("parquet", "csv")
POINTER_FILE = "current_book.json"
#: How :func:`open_book` says it took an installed book as stored instead of validating it again.
TRUSTED = "skipped: the book installed in the state folder, its files' digests match"

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")


# ---------------------------------------------------------------------------------------------
# Reading

def read_book(source: str | Path, *, tables: dict[str, str] | None = None,
              today: date | None = None, settings: Settings | None = None) -> Book:
    """Read and validate a book from a folder or a database.

    Parameters
    ----------
    source : str or Path
        A folder holding ``<table>.parquet`` or ``<table>.csv`` per table (Parquet wins when both
        exist; ``outcomes`` is optional), or a SQLAlchemy URL such as ``sqlite:///book.db`` or
        ``postgresql+psycopg://user@host/db``.
    tables : dict of str to str, optional
        Our table name -> file stem or database table name (``schema.table`` allowed), for the
        tables that are named differently at the source.
    today : date, optional
        Passed to :func:`~cb_core.data.schema.validate_tables`.
    settings : Settings, optional
        Its ``max_report_rows`` caps the row numbers listed per problem (default: the current
        settings).

    Returns
    -------
    Book

    Raises
    ------
    DataSourceError
        The source cannot be read at all (missing folder, undecodable or corrupt file, database
        unreachable); names the file or table.
    SchemaError
        The tables were read but break the data contract.
    """
    names = _table_names(tables)
    max_rows = _max_rows(settings)
    if isinstance(source, str) and _URL.match(source):
        return _read_database(source, names, today, max_rows)
    folder = Path(source)
    if not folder.is_dir():
        if not folder.exists():
            raise DataSourceError(f"book folder not found: {folder}", key="err_sources_book_folder_not_found", folder=folder)
        raise DataSourceError(f"{folder} is a file, not a book folder", key="err_sources_book_folder_is_file", folder=folder)
    files: dict[str, tuple[str, bytes]] = {}
    problems: list[tuple[str, str, str]] = []
    for table in TABLES:
        stem = names[table]
        path = next((p for p in (folder / f"{stem}.parquet", folder / f"{stem}.csv") if p.exists()), None)
        if path is not None:
            files[table] = (str(path), _read_file(path))
        elif table in REQUIRED_TABLES:
            problems.append((table, "*", f"required table is missing: no {stem}.parquet or {stem}.csv "
                                         f"in {folder}"))
    from .schema import _validate  # validating: pandas and the contract's checks, loaded only here

    return _validate(_read_files(files), today=today, max_rows=max_rows, source=str(folder),
                     problems=tuple(problems))


def open_book(source: str | Path, *, today: date | None = None, settings: Settings | None = None
              ) -> tuple[Book, str]:
    """:func:`read_book`, except for the current book installed in a state folder.

    ``source`` being ``STATE/books/<fingerprint>`` whose ``STATE/current_book.json`` names that
    fingerprint and whose files still have the sha256 digests recorded there when it was installed
    (:func:`save_current`, after validating it), the book is read as stored, without validating it
    again. Anything else (another folder, a replaced book, a file changed since, a URL) is read and
    validated in full.

    Returns
    -------
    (Book, str)
        The book and how it was checked: :data:`TRUSTED` or ``"full"``.
    """
    if not (isinstance(source, str) and _URL.match(source)):
        folder = Path(source)
        pointer = _pointer(folder.parent.parent) if folder.parent.name == "books" and folder.is_dir() else None
        if pointer is not None and pointer.get("fingerprint") == folder.name and isinstance(pointer.get("files"), dict):
            book = _stored_book(folder, folder.name, pointer["files"], same_bytes_only=True)
            if book is not None:
                book.source = str(folder)
                return book, TRUSTED
    return read_book(source, today=today, settings=settings), "full"


def _pointer(state_dir: Path) -> dict | None:
    try:
        pointer = json.loads((state_dir / POINTER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return pointer if isinstance(pointer, dict) else None


def _max_rows(settings: Settings | None = None) -> int:
    return (settings or get_settings()).max_report_rows


def _table_names(tables: dict[str, str] | None) -> dict[str, str]:
    unknown = set(tables or {}) - set(TABLES)
    if unknown:
        raise ConfigError(f"tables may only rename {', '.join(TABLES)}; got {', '.join(sorted(unknown))}", key="err_sources_tables_may_only_rename", TABLES=', '.join(TABLES), unknown=', '.join(sorted(unknown)))
    return {table: (tables or {}).get(table, table) for table in TABLES}


def _read_database(url: str, names: dict[str, str], today: date | None, max_rows: int) -> Book:
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as exc:
        raise DataSourceError(f"not a database URL: {exc}", key="err_sources_database_url_exc", exc=exc) from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).is_file():
        raise DataSourceError(f"database file not found: {parsed.database}", key="err_sources_database_file_found_database", database=parsed.database)  # sqlite would create it
    frames: dict[str, pd.DataFrame] = {}
    problems: list[tuple[str, str, str]] = []
    try:
        engine = sa.create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DataSourceError(f"cannot open {shown}: {exc}", key="err_sources_cannot_open_shown_exc", shown=shown, exc=exc) from None
    try:
        with engine.connect() as conn:
            for table in TABLES:
                schema, _, db_table = names[table].rpartition(".")
                try:
                    reflected = sa.Table(db_table, sa.MetaData(), autoload_with=conn, schema=schema or None)
                except NoSuchTableError:
                    if table in REQUIRED_TABLES:
                        problems.append((table, "*", f"required table is missing: no table "
                                                     f"{names[table]!r} in {shown}"))
                    continue
                frames[table] = pd.read_sql(sa.select(reflected), conn)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DataSourceError(f"cannot read from {shown}: {detail}", key="err_sources_cannot_read_from_shown", shown=shown, detail=detail) from None
    finally:
        engine.dispose()
    from .schema import _validate

    return _validate(frames, today=today, max_rows=max_rows, source=shown, problems=tuple(problems))


# ---------------------------------------------------------------------------------------------
# Writing

def write_book(book: Book, out_dir: Path, fmt: str = "parquet") -> Path:
    """Write a book as ``<table>.<fmt>`` files into ``out_dir``, atomically and deterministically.

    The files are written into a temporary sibling folder that then takes the place of
    ``out_dir`` (an atomic exchange where the OS offers one), so ``out_dir`` never holds half a
    book. The same Book gives the same bytes. An existing ``out_dir`` is replaced only if it
    holds nothing but book files.

    Returns
    -------
    Path
        ``out_dir``.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}", key="err_sources_fmt_one_formats_got", FORMATS=', '.join(FORMATS), fmt=fmt)
    out_dir = Path(out_dir)
    book_files = {f"{t}.{ext}" for t in TABLES for ext in FORMATS}
    if out_dir.exists():
        strangers = [] if not out_dir.is_dir() else sorted(p.name for p in out_dir.iterdir()
                                                           if p.name not in book_files)
        if not out_dir.is_dir() or strangers:
            raise DataSourceError(f"will not replace {out_dir}: it is not a book folder "
                                  f"({', '.join(strangers[:5]) or 'a file'})", key="err_sources_will_replace_out_dir", out_dir=out_dir, value=', '.join(strangers[:5]) or 'a file')
    with disk_errors(out_dir, "the book"):
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = out_dir.with_name(f".{out_dir.name}.tmp-{uuid.uuid4().hex[:12]}")
        staging.mkdir()
        try:
            for table, frame in book.tables().items():
                path = staging / f"{table}.{fmt}"
                if fmt == "parquet":
                    # the activity in row groups of an eighth of it at least, read in parts (Book.activity_parts)
                    frame.to_parquet(path, index=False, engine="pyarrow",
                                     row_group_size=part_rows(len(frame)) if table == "monthly_activity" else None)
                else:
                    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
                fsync_path(path)
            _swap_into_place(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return out_dir


def _swap_into_place(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; a previous ``target`` is swapped out in one step, then removed."""
    if not target.exists():
        os.rename(staging, target)
    elif _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous book
    else:  # no atomic exchange here: move the old folder aside for the shortest possible moment
        retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:12]}")
        os.rename(target, retired)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(retired, target)
            raise
        shutil.rmtree(retired, ignore_errors=True)
    fsync_path(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


# ---------------------------------------------------------------------------------------------
# The current book

def save_current(book: Book, state_dir: Path, keep_replaced: int | None = None) -> Path:
    """Store a validated book under ``state_dir/books/<fingerprint>/`` and make it the current one.

    The book folder is written first (atomically; skipped when that fingerprint is already
    stored), then ``current_book.json`` is replaced in one ``os.replace``. A book not in
    canonical dtypes is validated first (:class:`~cb_core.errors.SchemaError` if it breaks the
    contract, and then nothing is written). All of it is private (0600/0700); replaced books
    beyond ``keep_replaced`` (None: the setting) are deleted (:mod:`.retention`).

    Returns
    -------
    Path
        The book's folder.
    """
    state_dir = Path(state_dir)
    book = _canonical(book)
    folder = state_dir / "books" / book.fingerprint
    expected = {f"{t}.parquet" for t in book.tables()}
    if not (folder.is_dir() and {p.name for p in folder.iterdir()} == expected
            and _stored_book(folder, book.fingerprint) is not None):
        write_book(book, folder, "parquet")
    make_private(folder.parent)
    pointer = {"fingerprint": book.fingerprint, "source": book.source,
               "loaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "files": _digests(folder)}
    write_text_atomic(state_dir / POINTER_FILE, json.dumps(pointer, ensure_ascii=False, indent=2) + "\n",
                      "the current-book pointer", private=True)
    os.utime(folder)  # its time is when it was last made current: the order in which books are pruned
    prune_books(state_dir, book.fingerprint, get_settings().keep_replaced_books if keep_replaced is None else keep_replaced)
    return folder


def _canonical(book: Book) -> Book:
    """The book in canonical dtypes, so that its fingerprint survives the round trip to disk.

    Books from :func:`~cb_core.data.schema.validate_tables` already are, and are trusted as valid;
    any other (built by hand, say) is validated, which keeps a book that breaks the contract
    from becoming current.
    """
    from pandera.errors import SchemaError as PanderaSchemaError  # only here: reading never needs pandera

    from . import schema

    try:
        for name, frame in book.tables().items():
            schema.CANONICAL_SCHEMAS[name].validate(frame)
    except PanderaSchemaError:
        from .schema import validate_tables

        return validate_tables(book.tables(), source=book.source, max_rows=_max_rows())
    return book


def load_current(state_dir: Path) -> Book | None:
    """The current book of ``state_dir``, or None when none was saved yet.

    Raises
    ------
    DataSourceError
        The pointer or the stored book is damaged (never silently replaced by another book).
    """
    pointer_path = Path(state_dir) / POINTER_FILE
    if not pointer_path.is_file():
        return None
    try:
        pointer = json.loads(pointer_path.read_text(encoding="utf-8"))
        fingerprint = pointer["fingerprint"]
        if not isinstance(fingerprint, str) or not _FINGERPRINT.match(fingerprint):
            raise ValueError(f"bad fingerprint {fingerprint!r}")
    except (ValueError, KeyError, TypeError) as exc:
        raise DataSourceError(f"{pointer_path} is damaged ({exc}); load a book again", key="err_sources_pointer_path_damaged_exc", pointer_path=pointer_path, exc=exc) from None
    folder = Path(state_dir) / "books" / fingerprint
    if not folder.is_dir():
        raise DataSourceError(f"the current book {fingerprint} is missing from {folder.parent}; "
                              "load a book again", key="err_sources_current_book_fingerprint_missing", fingerprint=fingerprint, parent=folder.parent)
    book = _stored_book(folder, fingerprint, pointer.get("files")) or read_book(folder)
    if book.fingerprint != fingerprint:
        raise DataSourceError(f"the stored book in {folder} no longer matches its fingerprint "
                              f"{fingerprint} (got {book.fingerprint}); load a book again", key="err_sources_stored_book_folder_longer", folder=folder, fingerprint=fingerprint, fingerprint2=book.fingerprint)
    book.source = str(pointer.get("source", ""))
    return book
