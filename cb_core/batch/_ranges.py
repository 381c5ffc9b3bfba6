"""Partitions cut on merchant boundaries of a sorted Parquet book: no shuffle.

A book written by :func:`~cb_core.data.sources.write_book` (and any book written merchant by
merchant) has every table ordered by ``merchant_id``, so the rows of a range of merchants sit in a
few consecutive Parquet row groups. Partition ``k`` then holds the rows whose ``merchant_id`` lies
in ``[bounds[k], bounds[k + 1])``, each table read by the worker with a row filter that Parquet's
row-group statistics turn into reading only those row groups: no task ever holds the whole table,
and nothing is shuffled between workers. The filter is exact whatever the order; the order only
decides how much is read, and a book whose row groups overlap (not sorted) is left to the shuffle.

Like the hash buckets of :func:`~cb_core.batch._partition.with_bucket`, a range holds all of a
merchant's rows in every table, as long as each id is written exactly as the validation compares it.
An id with surrounding spaces or invisible characters (which the validation reports) could fall in
another range than its stripped form: a task that reads such an id raises :class:`UnplainIds`, and
the run starts again with the shuffle by the stripped id, so a bad book gets the same report as before.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

__all__ = ["UnplainIds", "merchant_bounds", "plain_ids", "read_range", "sorted_by_merchant"]

#: An id that the validation leaves as it is: no space, separator, control or format character
#: (RE2 classes; a superset of what the validation strips or reports as invisible).
_PLAIN_ID = r"^[^\s\p{Z}\p{C}]+$"


class UnplainIds(Exception):
    """A range holds a missing id or one with spaces or invisible characters: partition by the
    stripped id instead (an internal signal of the batch, never shown)."""


def _files(fs: Any, path: str) -> list[str]:
    """The Parquet files of a table: the file itself, or the parts of a folder in name order (paths
    without the URL's protocol, as ``fs`` and Arrow take them)."""
    path = fs._strip_protocol(path)
    if not fs.isdir(path):
        return [path]
    return sorted(f for f in fs.find(path) if f.endswith(".parquet"))


def sorted_by_merchant(fs: Any, path: str) -> bool:
    """Whether every row group of the table at ``path`` has ``merchant_id`` statistics, the column
    is text, and the row groups' ``[min, max]`` ranges do not overlap (at most they touch), over all
    its files (:func:`cb_core.data.merchant_row_groups`): from the footers only, no row is read."""
    from ..data import merchant_row_groups

    spans: list[tuple[str, str]] = []
    for name in _files(fs, path):
        with fs.open(name, "rb") as fh:
            groups = merchant_row_groups(pq.ParquetFile(fh).metadata)
        if groups is None:
            return False
        spans += [(low, high) for low, high, _ in groups]
    spans.sort()
    return all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:]))


def merchant_bounds(fs: Any, path: str, partitions: int) -> list[str]:
    """``partitions - 1`` ascending ids cutting the merchants table's distinct ids into ranges of
    nearly equal size (the first range also starts below every id, the last ends above)."""
    parts = []
    for name in _files(fs, path):
        with fs.open(name, "rb") as fh:
            parts.append(pq.read_table(fh, columns=["merchant_id"])["merchant_id"].cast(pa.large_string()))
    ids = pa.chunked_array([c for part in parts for c in part.chunks], type=pa.large_string())
    distinct = pc.unique(ids.drop_null())
    distinct = distinct.take(pc.sort_indices(distinct))
    n = len(distinct)
    return [str(distinct[min(k * n // partitions, max(n - 1, 0))]) if n else "" for k in range(1, partitions)]


def _read(lo: str | None, hi: str | None, fs: Any, path: str, columns: list[str] | None) -> pa.Table:
    field = pc.field("merchant_id")
    keep = None
    if lo is not None:
        keep = field >= lo
    if hi is not None:
        keep = field < hi if keep is None else keep & (field < hi)
    if lo is None and keep is not None:
        keep = keep | field.is_null()
    return ds.dataset(_files(fs, path), filesystem=fs, format="parquet").to_table(columns=columns, filter=keep)


def _plain(ids: pa.ChunkedArray) -> bool:
    return not ids.null_count and (not len(ids) or pc.all(pc.match_substring_regex(pc.unique(ids), _PLAIN_ID)).as_py())


def plain_ids(lo: str | None, hi: str | None, *, fs: Any, path: str) -> bool:
    """Whether every ``merchant_id`` of the table in ``[lo, hi)`` is plain (only that column is read)."""
    return _plain(_read(lo, hi, fs, path, ["merchant_id"])["merchant_id"])


def read_range(lo: str | None, hi: str | None, *, fs: Any, path: str) -> pd.DataFrame:
    """The rows of one table with ``lo <= merchant_id < hi`` (``None``: no bound; the first range
    also takes the rows without an id), as :func:`dask.dataframe.read_parquet` gives them.

    Raises
    ------
    UnplainIds
        Some id read is missing, empty, or holds spaces or invisible characters.
    """
    table = _read(lo, hi, fs, path, None)
    if not _plain(table["merchant_id"]):
        raise UnplainIds(f"{path}: an id in [{lo}, {hi}) is missing or not plain")
    # column by column, each Arrow buffer freed once converted: one copy of the rows at a time
    return table.to_pandas(split_blocks=True, self_destruct=True)
