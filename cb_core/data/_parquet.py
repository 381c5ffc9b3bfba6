"""A Parquet file's frame, built for less memory traffic than ``pd.read_parquet``.

``pd.read_parquet`` decodes every column into Arrow buffers (one chunk per row group) and then
concatenates each column into a new numpy array: every byte of a 1M-merchant activity table (18
million rows, 2 GB of numbers) is allocated twice, and on this project's machines (virtual machines
where the first touch of a fresh 4 KiB page costs microseconds) those page faults, not the decoding,
were most of the read: 4-12 s of system time for the activity table against 1.5 s of decoding.

:func:`read_parquet_frame` reads one row group at a time and copies each 64-bit integer or float
column straight into one preallocated numpy array (large, so numpy asks the kernel for huge pages),
so only one row group's Arrow buffers exist at once and are reused by the allocator; every other
column (text, booleans, dates, nullable or narrower types) is decoded as before and combined into one
chunk, then converted by Arrow. The frame is the one ``pd.read_parquet`` gives, with each text column
in one Arrow chunk (same columns, order, dtypes and values; ``tests/data/test_parquet_frame.py``
compares them on every kind of column). Files whose pandas metadata asks for something else (an
index stored as columns, a pandas extension type on a numeric column, repeated names) are left to
``pd.read_parquet``: :func:`read_parquet_frame` returns None for them.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from ..lazy import LazyModule

pd = LazyModule("pandas")

#: numpy types a numeric Arrow column is copied into, when the pandas metadata agrees.
_DIRECT = {"int64": np.dtype("int64"), "double": np.dtype("float64")}


def _pandas_types(schema: pa.Schema) -> dict[str, str] | None:
    """Column name -> the ``numpy_type`` the pandas metadata records (empty without metadata); None
    when the metadata names index columns stored in the file (``pd.read_parquet`` makes them the index)."""
    raw = (schema.metadata or {}).get(b"pandas")
    if raw is None:
        return {}
    try:
        meta = json.loads(raw)
        if any(not isinstance(i, dict) for i in meta.get("index_columns", [])):
            return None
        return {str(c.get("name")): str(c.get("numpy_type")) for c in meta.get("columns", [])}
    except (ValueError, TypeError, AttributeError):
        return None


def _direct_columns(parquet: Any, schema: pa.Schema, numpy_types: dict[str, str]) -> dict[str, np.dtype]:
    """The columns copied straight into numpy: int64 without a null in any row group (a null makes
    pandas read the column as floats) and float64 (a null is NaN), whose pandas type is the same."""
    metadata = parquet.metadata
    direct: dict[str, np.dtype] = {}
    for index, field in enumerate(schema):
        dtype = _DIRECT.get(str(field.type))
        if dtype is None or numpy_types.get(field.name, dtype.name) != dtype.name:
            continue
        if dtype.kind == "i":
            stats = [metadata.row_group(g).column(index).statistics for g in range(metadata.num_row_groups)]
            if any(s is None or not s.has_null_count or s.null_count for s in stats):
                continue
        direct[field.name] = dtype
    return direct


def _joined(chunks: list[pa.Array], kind: pa.DataType) -> pa.ChunkedArray:
    """A column of the other kinds: text in one chunk (picking one merchant's rows from 140 chunks
    cost 0.17 s instead of 1 ms on the review page), anything else as read."""
    column = pa.chunked_array(chunks, type=kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.chunked_array([column.combine_chunks()], type=kind)
    return column


def read_parquet_frame(source: Any) -> pd.DataFrame | None:
    """The frame of a Parquet file (a path, a file object or a ``pa.BufferReader``), or None when the
    file is one :func:`read_parquet_frame` leaves to ``pd.read_parquet`` (see the module's docstring).

    Raises
    ------
    pyarrow.ArrowException, OSError
        The file cannot be read as Parquet (as ``pd.read_parquet`` would).
    """
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source)
    schema = parquet.schema_arrow
    numpy_types = _pandas_types(schema)
    if numpy_types is None or len(set(schema.names)) != len(schema.names):
        return None
    direct = _direct_columns(parquet, schema, numpy_types)
    rows = parquet.metadata.num_rows
    arrays = {name: np.empty(rows, dtype=dtype) for name, dtype in direct.items()}
    chunks: dict[str, list[pa.Array]] = {f.name: [] for f in schema if f.name not in direct}
    start = 0
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group)
        for name, column in zip(table.column_names, table.columns):
            if name not in direct:
                chunks[name].extend(column.chunks)
                continue
            at = start
            for chunk in column.chunks:  # nulls of a float column become NaN, as pandas reads them
                arrays[name][at:at + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
                at += len(chunk)
        start += table.num_rows
        del table
    if start != rows:
        raise OSError(f"the row groups hold {start} rows; the footer says {rows}")
    columns = [pa.array(arrays.pop(f.name)) if f.name in direct else _joined(chunks.pop(f.name), f.type)
               for f in schema]
    frame = pa.Table.from_arrays(columns, schema=schema).to_pandas(split_blocks=True, self_destruct=True)
    pa.default_memory_pool().release_unused()
    return frame
