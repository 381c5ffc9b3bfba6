"""A book as stored in the state folder: read without validating it again when it is provably the
book that was validated and stored (:func:`cb_core.data.sources.save_current`)."""
from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import threading
import time
from functools import partial
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from ._parquet import read_parquet_frame
from .book import REQUIRED_TABLES, TABLES, Book, PendingTable
from ..errors import DataSourceError
from ._contract import CONTRACT, shape_conforms
from ..lazy import LazyModule

pd = LazyModule("pandas")

log = logging.getLogger(__name__)


def _one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as one Arrow chunk each. Parquet hands them over in one chunk per batch (140
    for a 1M-merchant activity table), and then picking one merchant's 24 rows costs a take over
    every chunk: 0.17 s instead of 1 ms on the review page. Same values, same dtype."""
    for column in frame.columns:
        values = frame[column].array
        chunked = getattr(values, "_pa_array", None)
        if isinstance(values, pd.arrays.ArrowStringArray) and chunked is not None and chunked.num_chunks > 1:
            frame[column] = pd.arrays.ArrowStringArray(pa.chunked_array([chunked.combine_chunks()]),
                                                       dtype=values.dtype)
    return frame


def _digests(folder: Path) -> dict[str, str]:
    """sha256 of each file of a stored book folder, streamed through one small buffer (reading each file whole
    first cost the pages of a fresh copy: at 1,000,000 merchants half a GB). A file this process hashed already,
    and that nobody wrote since (the same inode, size, modification and change times), is not hashed again: the
    server's start opened the book in two threads at once, each hashing its 550 MB (1,000,000 merchants)."""
    return {path.name: _file_digest(path) for path in sorted(folder.iterdir())}


_HASHED: dict[Path, tuple[tuple[int, ...], str]] = {}  # path -> (its stat when hashed, sha256)
_HASHING: dict[Path, threading.Lock] = {}
_HASHING_LOCK = threading.Lock()
#: A file written less than this long ago is hashed every time: the kernel's file times advance in ticks of a
#: few milliseconds, so a second write in the same tick and of the same size would leave its stat unchanged.
_SETTLED_NS = 2_000_000_000


def _file_digest(path: Path) -> str:
    with _HASHING_LOCK:
        lock = _HASHING.setdefault(path, threading.Lock())
    with lock:  # a second thread asking for the same file waits for the first one's digest
        with path.open("rb") as f:
            before = _stat_key(os.fstat(f.fileno()))
            known = _known_digest(path, before)
            if known is not None:
                return known
            digest = hashlib.file_digest(f, "sha256").hexdigest()
            if _stat_key(os.fstat(f.fileno())) == before and _stat_key(path.stat()) == before:
                _remember(path, before, digest)  # unchanged while hashed, and still the file at that path
            return digest


def _known_digest(path: Path, key: tuple[int, ...]) -> str | None:
    """The sha256 this process found for the file at ``path`` when its stat was ``key`` (None: not hashed so)."""
    known = _HASHED.get(path)
    return known[1] if known is not None and known[0] == key else None


def _remember(path: Path, key: tuple[int, ...], digest: str) -> None:
    if time.time_ns() - max(key[3], key[4]) > _SETTLED_NS:  # not written moments ago (see _SETTLED_NS)
        _HASHED[path] = (key, digest)


def _stat_key(st: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is written or replaced (the change time is set by the kernel on every write)."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _stored_book(folder: Path, fingerprint: str, digests: dict[str, str] | None = None, *,
                 same_bytes_only: bool = False) -> Book | None:
    """The stored book as written by :func:`~cb_core.data.sources.save_current`, without validating it again: it was
    validated before it was stored, and the same file bytes (``digests``, recorded in the pointer)
    or else the same content hash (``fingerprint``) prove it is still that book. None when the
    folder is not exactly that (other files, other dtypes, other content): :func:`~cb_core.data.sources.read_book` then
    reads and validates it in full and reports what is wrong.

    When the digests match, the tables are not read here: each is a
    :class:`~cb_core.data.book.PendingTable` read on first use (:func:`_read_checked`: the file's
    bytes are read once, their sha256 compared with the digest again, and only those bytes parsed),
    so the app's landing page, which needs none of the 18 million activity rows of a 1M-merchant book
    once the snapshot is cached, does not wait for them. Their columns and dtypes are checked here
    from the files' schemas, and the book's last month is read from the month column's statistics.

    At 100,000 merchants this reads the current book in about 1 s instead of 12 s. With
    ``same_bytes_only`` only the digests count (the command line's shortcut, :func:`~cb_core.data.sources.open_book`)."""
    expected = {f"{t}.parquet" for t in TABLES}
    present = {p.name for p in folder.iterdir()}
    if not (present <= expected and {f"{t}.parquet" for t in REQUIRED_TABLES} <= present):
        return None
    same_bytes = isinstance(digests, dict) and digests == _digests(folder)
    if same_bytes_only and not same_bytes:
        return None
    if same_bytes:
        return _pending_book(folder, fingerprint, digests, present)
    try:
        frames = {t: _parse(folder / f"{t}.parquet") for t in TABLES
                  if f"{t}.parquet" in present}
    except (OSError, ValueError, pa.ArrowException):
        return None
    from .schema import conforms

    if not all(conforms(name, frame) for name, frame in frames.items()):  # columns, order, dtypes; no data scan
        return None
    book = Book(merchants=frames["merchants"], activity=frames["monthly_activity"], outcomes=frames.get("outcomes"),
                bureau_history=frames.get("bureau_history"), _fingerprint=None,
                loans=frames.get("loans"), loan_months=frames.get("loan_months"),
                default_events=frames.get("default_events"))
    return book if book.fingerprint == fingerprint else None


def _pending_book(folder: Path, fingerprint: str, digests: dict[str, str], present: set[str]) -> Book | None:
    """The stored book whose files' digests were just found equal to ``digests``, every table a
    :class:`PendingTable`; None when a file's schema is not the contract's (then the caller reads and
    validates it in full)."""
    import pyarrow.parquet as pq

    tables = {t: folder / f"{t}.parquet" for t in TABLES if f"{t}.parquet" in present}
    try:
        for name, path in tables.items():  # the files' own schemas (footers only): columns, order, dtypes
            if not _footer_conforms(name, pq.read_schema(path)):
                return None
        last_month = _last_month(pq.ParquetFile(tables["monthly_activity"]).metadata)
    except (OSError, ValueError, pa.ArrowException):
        return None
    pending = {t: PendingTable(partial(_read_checked, path, digests[path.name], t),
                               parts=partial(_parts_checked, path, digests[path.name]) if t == "monthly_activity"
                               else None, arrow=partial(_arrow_checked, path, digests[path.name]),
                               rows=partial(_merchant_rows, path, digests[path.name]) if t == "monthly_activity"
                               else None)
               for t, path in tables.items()}
    return Book(merchants=pending["merchants"], activity=pending["monthly_activity"], outcomes=pending.get("outcomes"),
                bureau_history=pending.get("bureau_history"), _fingerprint=fingerprint,
                _last_month=last_month, loans=pending.get("loans"), loan_months=pending.get("loan_months"),
                default_events=pending.get("default_events"))


def _footer_conforms(table: str, schema: pa.Schema) -> bool:
    """Whether a stored file's schema (its footer) is ``table``'s canonical shape as pandas wrote it: every
    required column, no other, in the contract's order, each with the dtype the contract gives it as pandas
    recorded it in the file (what :func:`~cb_core.data.schema.conforms` finds of the frame read from it),
    without pandas. False for a file without pandas' record (then the book is read and validated in full)."""
    try:
        recorded = {c["name"]: c.get("numpy_type") for c in json.loads((schema.metadata or {})[b"pandas"])["columns"]}
    except (KeyError, TypeError, ValueError):
        return False
    specs = CONTRACT[table]
    return shape_conforms(table, schema.names, lambda _i, c: recorded.get(c) == specs[c].dtype_name)


def _last_month(metadata) -> str | None:
    """The largest ``month`` of a stored activity file from its row groups' statistics (the footer,
    no row read), None when a row group has none (then :attr:`Book.last_month` reads the column).
    Months are validated ``YYYY-MM`` text: their byte order is their order."""
    column = metadata.schema.names.index("month")
    highest = None
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        if group.num_rows == 0:
            continue
        stats = group.column(column).statistics
        if stats is None or not stats.has_min_max or not isinstance(stats.max, str):
            return None
        highest = stats.max if highest is None else max(highest, stats.max)
    return highest


def _parse(data: bytes | mmap.mmap | Path) -> pd.DataFrame:
    """A stored table's frame from its file's bytes (or path): the frame ``pd.read_parquet`` gives (same
    columns, values and dtypes) with each text column in one Arrow chunk (:func:`_one_chunk`), built
    with fewer copies (:func:`~cb_core.data._parquet.read_parquet_frame`)."""
    source = (lambda: pa.BufferReader(data)) if isinstance(data, (bytes, mmap.mmap)) else (lambda: data)
    frame = read_parquet_frame(source())
    return _one_chunk(pd.read_parquet(source())) if frame is None else frame


def _checked_bytes(path: Path, digest: str) -> bytes | mmap.mmap:
    """The file's bytes, when their sha256 is still the digest recorded at install (:class:`DataSourceError`
    otherwise): mapped read-only from the page cache, not copied (1M merchants' 500 MB activity file: 121,000 page
    faults copied, 0.4-1.5 s of system time; mapped, 7,600). The engine never writes an installed file in place (a
    book is staged and swapped in whole), so the bytes parsed are the bytes hashed; a file replaced meanwhile leaves
    the mapping on the one hashed. A file this process hashed, unwritten since (:func:`_file_digest`), is not hashed
    again."""
    try:
        with path.open("rb") as f:
            key = _stat_key(os.fstat(f.fileno()))
            data = mmap.mmap(f.fileno(), key[2], access=mmap.ACCESS_READ) if key[2] else b""
    except (OSError, ValueError) as exc:
        raise DataSourceError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}",
                              key="err_files_cannot_read_path_value", path=path, value=exc) from None
    if _known_digest(path, key) == digest:
        return data  # this process hashed this very file, unwritten since, when the book was opened
    found = hashlib.sha256(data).hexdigest()
    _remember(path, key, found)
    if found != digest:
        raise DataSourceError(f"{path} changed since the book was installed (its sha256 is not the one recorded "
                              "then); load a book again", key="err_installed_file_changed", path=path)
    return data


def _arrow_checked(path: Path, digest: str) -> pa.Table:
    """One table of the installed book as the Arrow table of its file (:meth:`Book.arrow_table`), its bytes
    read once and used only if their sha256 is still ``digest``; its shape was checked when the book was
    opened (:func:`_footer_conforms`). No frame is made, and pandas is not imported.

    Raises
    ------
    DataSourceError
        As :func:`_read_checked`: the file changed since the book was installed or cannot be read.
    """
    import pyarrow.parquet as pq

    data = _checked_bytes(path, digest)
    try:
        return pq.ParquetFile(pa.BufferReader(data)).read()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def _read_checked(path: Path, digest: str, table: str) -> pd.DataFrame:
    """One table of the installed book, read on first use: the file's bytes are read once and parsed
    only if their sha256 is still the digest recorded when the book was installed.

    Raises
    ------
    DataSourceError
        The file changed since the book was installed, cannot be read, or is not the contract's shape.
    """
    data = _checked_bytes(path, digest)
    try:
        frame = _parse(data)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    from .schema import conforms

    if not conforms(table, frame):
        raise _wrong_shape(path, table)
    log.info("read %s (%d rows) on first use", path.name, len(frame))
    return frame


#: Rows a part of :func:`_parts_checked` holds at most (1,000,000 rows of activity are about 60,000
#: merchants, and their arrays a few hundred MB at most) ...
PART_ROWS = 1_000_000
#: ... and at least, unless the table is smaller: below, a part's fixed costs (about 11 ms each) outweigh it.
MIN_PART_ROWS = 65_536
#: Parts a table is cut into at least, sizes allowing: decoding the next part and the two threads computing
#: features overlap, and each part's buffers are reused by the next. At 50,000 merchants (903,000 rows,
#: one part before) the snapshot took 0.38-0.45 s instead of 0.59-0.79 s, with a third of the system time
#: (bench/RESULTS.md).
MIN_PARTS = 8


#: Columns the parts give dictionary-encoded, as Parquet stores them: no string of them is decoded, and the
#: snapshot codes them by their dictionaries instead of hashing every row (:func:`cb_core.data.dictionary_codes`).
DICTIONARY_COLUMNS = ("merchant_id", "month")


def part_rows(total_rows: int) -> int:
    """Rows of one part of a table of ``total_rows``: the row-group size :func:`cb_core.data.sources.write_book`
    writes the activity with, and the rows from which the groups joined so far make a part. A part is then one
    row group, handed to pandas without a copy (a part of several groups is concatenated first)."""
    return min(PART_ROWS, max(MIN_PART_ROWS, -(-total_rows // MIN_PARTS)))


def merchant_row_groups(metadata) -> list[tuple[str, str, int]] | None:
    """A Parquet file's non-empty row groups as ``(lowest id, highest id, group)`` in id order, from the
    ``merchant_id`` statistics of its footer (``metadata``: no row is read); None when a group has none,
    the column is not text, or two groups' id ranges overlap (they may touch: one merchant's rows at the
    end of one group and the start of the next). The installed book's parts and the Dask batch's
    merchant ranges (``cb_core.batch``) both rely on it."""
    names = metadata.schema.names
    if "merchant_id" not in names:
        return None
    column = names.index("merchant_id")
    spans = []
    for group in range(metadata.num_row_groups):
        if metadata.row_group(group).num_rows == 0:
            continue
        stats = metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max or not isinstance(stats.min, str):
            return None
        spans.append((stats.min, stats.max, group))
    spans.sort()
    return spans if all(a[1] <= b[0] for a, b in zip(spans, spans[1:])) else None


def _parts_checked(path: Path, digest: str, *, dictionaries: bool = False) -> Iterator[pa.Table] | None:
    """The installed book's table at ``path`` as Arrow tables of whole merchants (:meth:`Book.activity_parts`),
    None when its row groups are not ordered by merchant. The file's bytes are read once and used only
    if their sha256 is still ``digest``; the parts are then decoded one after the other (a merchant
    whose rows continue in the next row group goes into the next part whole). Every part has the file's
    columns, found to be the contract's shape when the book was opened (:func:`_pending_book`), and their types
    (with ``dictionaries``, :data:`DICTIONARY_COLUMNS` encoded against their distinct values as Parquet stores
    them); no frame is made of it (the snapshot reads its columns in place: at 50,000 merchants 0.08 s of CPU
    less).

    Raises
    ------
    DataSourceError
        As :func:`_read_checked`: the file changed or cannot be read (a part: when that part is reached).
    """
    import pyarrow.parquet as pq

    try:
        if merchant_row_groups(pq.read_metadata(path)) is None:
            return None  # checked on the footer first, so an unordered file's bytes are not read for nothing
    except (OSError, ValueError, pa.ArrowException):
        return None  # the full read reports it
    data = _checked_bytes(path, digest)
    try:
        footer = pq.read_metadata(pa.BufferReader(data))
        parquet = pq.ParquetFile(pa.BufferReader(data), metadata=footer,
                                 read_dictionary=[name for name in DICTIONARY_COLUMNS if dictionaries and name in footer.schema.names])
        ordered = merchant_row_groups(parquet.metadata)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    return None if ordered is None else _parts(parquet, ordered, path)


def _merchant_rows(path: Path, digest: str, merchant: str) -> pd.DataFrame | None:
    """One merchant's rows of the installed table at ``path`` (:meth:`Book.activity_rows`), in the file's order and
    as the whole table's frame has them, read from the row groups whose id range holds it (one, or two when its rows
    straddle them: 0.1-0.2 s at 1,000,000 merchants, against the whole table's 18M rows); None when the row groups
    are not ordered by merchant. The file's bytes are used only if their sha256 is still ``digest``."""
    import pyarrow.parquet as pq

    from ._arrow import split_off

    data = _checked_bytes(path, digest)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        spans = merchant_row_groups(parquet.metadata)
        if spans is None:
            return None
        table = parquet.read_row_groups([group for low, high, group in spans if low <= merchant <= high])
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    return _one_chunk(split_off(table, "merchant_id", merchant)[0].to_pandas())


def _unreadable(path: Path, exc: BaseException) -> DataSourceError:
    return DataSourceError(f"{path}: cannot read Parquet: {exc}", key="err_files_name_cannot_read_parquet",
                           name=path, exc=exc)


def _wrong_shape(path: Path, table: str) -> DataSourceError:
    return DataSourceError(f"{path} no longer has the columns and types of the {table} table; load a book again",
                           key="err_installed_file_shape", path=path, table=table)


def _parts(parquet, ordered: list[tuple[str, str, int]], path: Path) -> Iterator[pa.Table]:
    """The parts of :func:`_parts_checked`; the next row group is decoded by a thread of its own while the
    caller works on the current part (Arrow decodes without Python's lock)."""
    from concurrent.futures import ThreadPoolExecutor

    from ._arrow import split_off

    held: list[pa.Table] = []
    rows, enough = 0, part_rows(parquet.metadata.num_rows)
    with ThreadPoolExecutor(1, thread_name_prefix="cb-parquet") as reader:
        ahead = reader.submit(parquet.read_row_group, ordered[0][2]) if ordered else None
        for at, (_, highest, _group) in enumerate(ordered):
            try:
                held.append(ahead.result())
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise _unreadable(path, exc) from None
            following = ordered[at + 1][0] if at + 1 < len(ordered) else None
            if following is not None:
                ahead = reader.submit(parquet.read_row_group, ordered[at + 1][2])
            rows += held[-1].num_rows
            if following is not None and rows < enough:
                continue
            part = pa.concat_tables(held) if len(held) > 1 else held[0]
            held, rows = [], 0
            if following is not None and highest == following:  # that merchant's rows continue: all go next
                tail, part = split_off(part, "merchant_id", following)
                held, rows = [tail], tail.num_rows
            if part.num_rows:
                yield part
