"""A book as stored in the state folder: read without validating it again when it is provably the
book that was validated and stored (:func:`cb_core.data.sources.save_current`).

Split out of :mod:`cb_core.data.sources`.
"""
from __future__ import annotations

import hashlib
import logging
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ._parquet import read_parquet_frame
from .book import REQUIRED_TABLES, TABLES, Book, PendingTable
from ..errors import DataSourceError
from .schema import conforms

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
    """sha256 of each file of a stored book folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


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
            if not conforms(name, pq.read_schema(path).empty_table().to_pandas()):
                return None
        last_month = _last_month(pq.ParquetFile(tables["monthly_activity"]).metadata)
    except (OSError, ValueError, pa.ArrowException):
        return None
    pending = {t: PendingTable(partial(_read_checked, path, digests[path.name], t)) for t, path in tables.items()}
    return Book(merchants=pending["merchants"], activity=pending["monthly_activity"], outcomes=pending.get("outcomes"),
                bureau_history=pending.get("bureau_history"), _fingerprint=fingerprint,
                _last_month=last_month, loans=pending.get("loans"), loan_months=pending.get("loan_months"),
                default_events=pending.get("default_events"))


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


def _parse(data: bytes | Path) -> pd.DataFrame:
    """A stored table's frame from its file's bytes (or path): the frame ``pd.read_parquet`` gives (same
    columns, values and dtypes) with each text column in one Arrow chunk (:func:`_one_chunk`), built
    with fewer copies (:func:`~cb_core.data._parquet.read_parquet_frame`)."""
    source = (lambda: pa.BufferReader(data)) if isinstance(data, bytes) else (lambda: data)
    frame = read_parquet_frame(source())
    return _one_chunk(pd.read_parquet(source())) if frame is None else frame


def _read_checked(path: Path, digest: str, table: str) -> pd.DataFrame:
    """One table of the installed book, read on first use: the file's bytes are read once and parsed
    only if their sha256 is still the digest recorded when the book was installed.

    Raises
    ------
    DataSourceError
        The file changed since the book was installed, cannot be read, or is not the contract's shape.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataSourceError(f"cannot read {path}: {exc.strerror or exc}", key="err_files_cannot_read_path_value",
                              path=path, value=exc) from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise DataSourceError(f"{path} changed since the book was installed (its sha256 is not the one recorded "
                              "then); load a book again", key="err_installed_file_changed", path=path)
    try:
        frame = _parse(data)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataSourceError(f"{path}: cannot read Parquet: {exc}", key="err_files_name_cannot_read_parquet",
                              name=path, exc=exc) from None
    if not conforms(table, frame):
        raise DataSourceError(f"{path} no longer has the columns and types of the {table} table; load a book again",
                              key="err_installed_file_shape", path=path, table=table)
    log.info("read %s (%d rows) on first use", path.name, len(frame))
    return frame
