"""Where books come from and go to: folders of CSV/Parquet files, uploads, SQL databases.

Every reader hands the raw tables to :func:`cb_core.schema.validate_tables`, so a book is either
loaded whole and valid or not at all. CSV is read as all-strings, so that a bad value is reported
at its row instead of failing the whole read; UTF-8 (with or without BOM) and CP949 (Korean Excel
exports) are recognised. A CSV line longer than :data:`MAX_LINE_BYTES` (a file that is not a table,
or a "zip bomb" of one endless line) is refused as soon as it is seen, and a file larger than
:data:`MAX_FILE_BYTES` before it is opened. Writes are atomic: a book folder is written next to
its destination and renamed into place, and the current-book pointer is replaced with ``os.replace``.
"""
from __future__ import annotations

import csv
import ctypes
import io
import json
import os
import re
import shutil
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pandera.errors import SchemaError as PanderaSchemaError

from .book import REQUIRED_TABLES, TABLES, Book
from .config import get_settings
from .diskio import disk_errors, fsync_path, write_text_atomic
from .errors import ConfigError, DataSourceError
from .schema import CANONICAL_SCHEMAS, _validate, validate_tables

__all__ = ["FORMATS", "load_current", "read_book", "read_uploaded", "save_current", "write_book"]

#: File formats a book can be written in (and read from).
FORMATS: tuple[str, ...] = ("parquet", "csv")
POINTER_FILE = "current_book.json"

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
_HANGUL = re.compile("[\uac00-\ud7a3]")
_UTF8_BOM = b"\xef\xbb\xbf"
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_PARQUET_MAGIC = b"PAR1"
_UNKNOWN_FILE = ("unknown file: expected merchants, monthly_activity and optionally outcomes, "
                 "each as .csv or .parquet")
#: Longest physical line read from a CSV file, in bytes. A row of this contract is a few hundred
#: bytes; a longer line is a broken export or a file that is not a table, refused before it is
#: read any further.
MAX_LINE_BYTES = 1_000_000
#: Largest table file read from a book folder, in bytes; larger books go through ``python -m
#: cb_core batch``, which reads them in partitions.
MAX_FILE_BYTES = 2 * 1024 ** 3
_FIELDS_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


# ---------------------------------------------------------------------------------------------
# Reading

def read_book(source: str | Path, *, tables: dict[str, str] | None = None,
              today: date | None = None) -> Book:
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
        Passed to :func:`~cb_core.schema.validate_tables`.

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
    if isinstance(source, str) and _URL.match(source):
        return _read_database(source, names, today)
    folder = Path(source)
    if not folder.is_dir():
        raise DataSourceError(f"book folder not found: {folder}" if not folder.exists()
                              else f"{folder} is a file, not a book folder")
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
    return _validate(_read_files(files), today=today, max_rows=_max_rows(), source=str(folder),
                     problems=tuple(problems))


def read_uploaded(files: dict[str, bytes], *, today: date | None = None) -> Book:
    """Read and validate a book from uploaded files (file name -> content).

    File names are ``merchants.csv``, ``monthly_activity.parquet`` and so on (any letter case,
    folders ignored); other names are reported as problems. When a table comes both as CSV and
    as Parquet, the Parquet file wins.
    """
    chosen: dict[str, tuple[str, bytes]] = {}
    problems: list[tuple[str, str, str]] = []
    bases = []
    for file_name, content in files.items():
        base = str(file_name).replace("\\", "/").rsplit("/", 1)[-1]
        bases.append(base)
        stem, _, ext = base.lower().rpartition(".")
        if ext not in FORMATS or stem not in TABLES:
            problems.append((base, "*", _UNKNOWN_FILE))
        elif stem not in chosen or ext == "parquet":
            chosen[stem] = (base, bytes(content))
    source = "upload: " + ", ".join(sorted(bases))
    return _validate(_read_files(chosen), today=today, max_rows=_max_rows(), source=source,
                     problems=tuple(problems))


def _read_file(path: Path) -> bytes:
    """A table file's bytes; a CSV file is refused at its first over-long line, before the rest is read."""
    try:
        if not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
            hint = (" (a partitioned Parquet dataset? read it with python -m cb_core batch)"
                    if path.is_dir() and path.suffix == ".parquet" else "")
            raise DataSourceError(f"cannot read {path}: it is {kind}, not a table file{hint}")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataSourceError(f"{path} is {size / 1024 ** 2:,.0f} MiB, more than the "
                                  f"{MAX_FILE_BYTES / 1024 ** 3:g} GiB a book file may have here; load a book this "
                                  "size with python -m cb_core batch")
        if path.suffix.lower() == ".parquet":
            return path.read_bytes()
        guard = _LineLength(str(path))
        parts = []
        with open(path, "rb") as fh:
            while chunk := fh.read(guard.chunk_bytes):
                guard.feed(chunk)
                parts.append(chunk)
        return b"".join(parts)
    except OSError as exc:
        raise DataSourceError(f"cannot read {path}: {exc.strerror or exc}") from None


class _LineLength:
    """Fed a CSV file chunk by chunk, refuses it at the first line longer than :data:`MAX_LINE_BYTES`.

    Chunks are at most that long, so only a line that spans chunks can be longer: the bytes
    since the last line break are carried over. LF, CR LF and a lone CR all end a line.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.limit = MAX_LINE_BYTES
        self.chunk_bytes = max(1, min(1 << 20, self.limit))
        self.since_break = 0
        self.line = 1

    def feed(self, chunk: bytes) -> None:
        breaks = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
        if not breaks:
            self.since_break += len(chunk)
            if self.since_break > self.limit:
                raise self._too_long()
            return
        if self.since_break + min(breaks) > self.limit:
            raise self._too_long()
        self.line += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
        self.since_break = len(chunk) - 1 - max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))

    def _too_long(self) -> DataSourceError:
        return DataSourceError(
            f"{self.name}: line {self.line} is longer than {self.limit:,} bytes; a row of a book table is a few "
            "hundred bytes, so this is not a CSV table of merchants, monthly_activity or outcomes: export it "
            "again with one row per line")


def _check_lines(name: str, content: bytes) -> None:
    guard = _LineLength(name)
    for start in range(0, len(content), guard.chunk_bytes):
        guard.feed(content[start:start + guard.chunk_bytes])


def _max_rows() -> int:
    return int(get_settings()["max_report_rows"])


def _table_names(tables: dict[str, str] | None) -> dict[str, str]:
    unknown = set(tables or {}) - set(TABLES)
    if unknown:
        raise ConfigError(f"tables may only rename {', '.join(TABLES)}; got {', '.join(sorted(unknown))}")
    return {table: (tables or {}).get(table, table) for table in TABLES}


def _read_files(files: dict[str, tuple[str, bytes]]) -> dict[str, pd.DataFrame]:
    """Parse each table's file; every file that cannot be read is named in one error."""
    frames: dict[str, pd.DataFrame] = {}
    errors: list[str] = []
    for table, (name, content) in files.items():
        try:
            if name.lower().endswith(".parquet"):
                frames[table] = _parse_parquet(name, content)
            else:
                frames[table] = _parse_csv(name, content)
        except DataSourceError as exc:
            errors.append(str(exc))
    if errors:
        raise DataSourceError("\n".join(errors))
    return frames


def _parse_csv(name: str, content: bytes) -> pd.DataFrame:
    if content[:4] in _EXCEL_MAGIC:
        raise DataSourceError(f"{name} is an Excel workbook, not CSV: save it as CSV (UTF-8)")
    if content[:4] == _PARQUET_MAGIC:
        raise DataSourceError(f"{name} is a Parquet file, not CSV: name it .parquet")
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataSourceError(f"{name} is UTF-16 text (Excel's 'Unicode Text'), not CSV: save it as CSV (UTF-8)")
    _check_lines(name, content)
    text = _decode(name, content)
    if not text.strip():
        return pd.DataFrame()  # reported as an empty table, next to any other problem
    if (nul := text.find("\x00")) >= 0:
        line = text.count("\n", 0, nul) + 1
        raise DataSourceError(f"{name}: NUL bytes at line {line}: not a CSV text file (a binary or damaged "
                              "file?); save it as CSV (UTF-8)")
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise DataSourceError(f"{name} is not a well-formed CSV table: {exc}") from None
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise DataSourceError(f"{name}: column(s) {', '.join(map(repr, repeated))} appear more than once "
                              "in the header")
    try:
        return pd.read_csv(io.StringIO(text), dtype="str", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, ValueError) as exc:
        fields = _FIELDS_ERROR.search(str(exc))
        if fields:
            expected, line, saw = fields.groups()
            raise DataSourceError(
                f"{name} is not a well-formed CSV table: line {line} has {saw} fields but the header has "
                f"{expected}; a value that contains a comma (such as 1,200,000 or a name) must be in double "
                "quotes") from None
        raise DataSourceError(f"{name} is not a well-formed CSV table: {exc}".strip()) from None


def _decode(name: str, content: bytes) -> str:
    """UTF-8 (BOM or not), else CP949; never a lossy guess."""
    if content.startswith(_UTF8_BOM):
        try:
            return content[len(_UTF8_BOM):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _undecodable(name, content, exc.start + len(_UTF8_BOM), "UTF-8") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    # Text that was valid UTF-8 Korean before the bad byte is a damaged UTF-8 file, not CP949.
    if _HANGUL.search(content[:utf8_error].decode("utf-8")):
        raise _undecodable(name, content, utf8_error, "UTF-8")
    try:
        return content.decode("cp949")
    except UnicodeDecodeError as exc:
        raise _undecodable(name, content, max(utf8_error, exc.start), "UTF-8 or CP949") from None


def _undecodable(name: str, content: bytes, offset: int, encodings: str) -> DataSourceError:
    line = content.count(b"\n", 0, offset) + 1
    return DataSourceError(f"{name}: byte 0x{content[offset]:02x} at byte offset {offset} (line {line}) "
                           f"is not valid {encodings} text; save the file as CSV (UTF-8)")


def _parse_parquet(name: str, content: bytes) -> pd.DataFrame:
    if len(content) < 12 or content[:4] != _PARQUET_MAGIC or content[-4:] != _PARQUET_MAGIC:
        kind = "an Excel workbook" if content[:4] in _EXCEL_MAGIC else "not a complete Parquet file"
        raise DataSourceError(f"{name} is {kind} (truncated, corrupt or another format)")
    try:
        frame = pd.read_parquet(io.BytesIO(content), engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise DataSourceError(f"{name}: cannot read Parquet: {exc}") from None
    if any(n is not None for n in frame.index.names):
        frame = frame.reset_index()  # written with a named index: it holds a column
    return frame.reset_index(drop=True)


def _read_database(url: str, names: dict[str, str], today: date | None) -> Book:
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as exc:
        raise DataSourceError(f"not a database URL: {exc}") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).is_file():
        raise DataSourceError(f"database file not found: {parsed.database}")  # sqlite would create it
    frames: dict[str, pd.DataFrame] = {}
    problems: list[tuple[str, str, str]] = []
    try:
        engine = sa.create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DataSourceError(f"cannot open {shown}: {exc}") from None
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
        raise DataSourceError(f"cannot read from {shown}: {detail}") from None
    finally:
        engine.dispose()
    return _validate(frames, today=today, max_rows=_max_rows(), source=shown, problems=tuple(problems))


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
        raise ConfigError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}")
    out_dir = Path(out_dir)
    book_files = {f"{t}.{ext}" for t in TABLES for ext in FORMATS}
    if out_dir.exists():
        strangers = [] if not out_dir.is_dir() else sorted(p.name for p in out_dir.iterdir()
                                                           if p.name not in book_files)
        if not out_dir.is_dir() or strangers:
            raise DataSourceError(f"will not replace {out_dir}: it is not a book folder "
                                  f"({', '.join(strangers[:5]) or 'a file'})")
    with disk_errors(out_dir, "the book"):
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = out_dir.with_name(f".{out_dir.name}.tmp-{uuid.uuid4().hex[:12]}")
        staging.mkdir()
        try:
            for table, frame in book.tables().items():
                path = staging / f"{table}.{fmt}"
                if fmt == "parquet":
                    frame.to_parquet(path, index=False, engine="pyarrow")
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

def save_current(book: Book, state_dir: Path) -> Path:
    """Store a validated book under ``state_dir/books/<fingerprint>/`` and make it the current one.

    The book folder is written first (atomically; skipped when that fingerprint is already
    stored), then ``current_book.json`` is replaced in one ``os.replace``. A book not in
    canonical dtypes is validated first (:class:`~cb_core.errors.SchemaError` if it breaks the
    contract, and then nothing is written).

    Returns
    -------
    Path
        The book's folder.
    """
    state_dir = Path(state_dir)
    book = _canonical(book)
    folder = state_dir / "books" / book.fingerprint
    expected = {f"{t}.parquet" for t in book.tables()}
    if not (folder.is_dir() and {p.name for p in folder.iterdir()} == expected):
        write_book(book, folder, "parquet")
    pointer = {"fingerprint": book.fingerprint, "source": book.source,
               "loaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_text_atomic(state_dir / POINTER_FILE, json.dumps(pointer, ensure_ascii=False, indent=2) + "\n",
                      "the current-book pointer")
    return folder


def _canonical(book: Book) -> Book:
    """The book in canonical dtypes, so that its fingerprint survives the round trip to disk.

    Books from :func:`~cb_core.schema.validate_tables` already are, and are trusted as valid;
    any other (built by hand, say) is validated, which keeps a book that breaks the contract
    from becoming current.
    """
    try:
        for name, frame in book.tables().items():
            CANONICAL_SCHEMAS[name].validate(frame)
    except PanderaSchemaError:
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
        raise DataSourceError(f"{pointer_path} is damaged ({exc}); load a book again") from None
    folder = Path(state_dir) / "books" / fingerprint
    if not folder.is_dir():
        raise DataSourceError(f"the current book {fingerprint} is missing from {folder.parent}; "
                              "load a book again")
    book = read_book(folder)
    if book.fingerprint != fingerprint:
        raise DataSourceError(f"the stored book in {folder} no longer matches its fingerprint "
                              f"{fingerprint} (got {book.fingerprint}); load a book again")
    book.source = str(pointer.get("source", ""))
    return book

