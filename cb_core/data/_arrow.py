"""Arrow arrays to and from numpy without pandas.

pyarrow's own ``to_numpy``, ``pa.array`` and Python values given to its compute functions go through its pandas
shim, which imports pandas (0.25 s) even for a plain array of numbers. The command line's score of the installed
book needs neither pandas nor a frame (:func:`cb_core.features.snapshot_columns`): these read and make arrays
from their buffers instead.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NUMPY = {pa.int8(): np.int8, pa.int16(): np.int16, pa.int32(): np.int32, pa.int64(): np.int64,
          pa.uint8(): np.uint8, pa.uint16(): np.uint16, pa.uint32(): np.uint32, pa.uint64(): np.uint64,
          pa.float32(): np.float32, pa.float64(): np.float64}


def one_array(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``array`` as one Arrow array: a chunked array's only chunk as it is (``combine_chunks`` copies even
    that: 8 MB a column of a 1,000,000-row part, in fresh pages), or its chunks joined."""
    if not isinstance(array, pa.ChunkedArray):
        return array
    return array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()


def arrow_to_numpy(array: pa.Array | pa.ChunkedArray, *, floats: bool = False) -> np.ndarray:
    """An Arrow array of numbers (or yes/no) as numpy, read from its buffers: in place when nothing is
    missing, else as floats with NaN for a missing value (yes/no: 1.0/0.0). pyarrow's own ``to_numpy`` imports
    pandas (its pandas shim) even for a plain array of numbers; this does not. ``floats``: as float64."""
    array = one_array(array)
    if floats and array.type != pa.float64() or pa.types.is_boolean(array.type) or array.null_count:
        array = pc.cast(array, pa.float64())
    dtype = np.dtype(_NUMPY[array.type])
    n, offset = len(array), array.offset
    values = np.frombuffer(array.buffers()[1], dtype=dtype, count=offset + n)[offset:] if n else np.empty(0, dtype)
    if array.null_count:
        valid = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), count=offset + n,
                              bitorder="little")[offset:].astype(bool)
        values = np.where(valid, values, np.nan)
    return values


def numpy_to_arrow(values: np.ndarray) -> pa.Array:
    """A numpy array of numbers as an Arrow array over the same memory (no pandas, see :func:`arrow_to_numpy`)."""
    values = np.ascontiguousarray(values)
    kind = {np.dtype(v): k for k, v in _NUMPY.items()}[values.dtype]
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def arrow_take(array: pa.Array, rows: np.ndarray) -> pa.Array:
    """``array``'s values at ``rows`` (positions, in order)."""
    return array.take(numpy_to_arrow(np.asarray(rows, dtype=np.int64)))


def text_scalar(value: str, kind: pa.DataType) -> pa.Scalar:
    """``value`` as an Arrow scalar of the text type ``kind`` (for a comparison in Arrow's compute functions)."""
    data = value.encode()
    one = pa.Array.from_buffers(pa.large_string(), 1, [None, pa.py_buffer(np.array([0, len(data)], dtype=np.int64)),
                                                       pa.py_buffer(data)])
    return pc.cast(one, kind)[0]


def dictionary_codes(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Each value of a text column as a code into its distinct values, and those values: ``(codes, dictionary)``.
    A dictionary-encoded column (the installed book's ids and months, read from Parquet so: no string is decoded
    or hashed) gives its own, its chunks' dictionaries unified first (values in order of first appearance);
    plain text is encoded by Arrow's hash (distinct values in order of first appearance). A missing value's code
    is undefined (the caller checks ``null_count``)."""
    if pa.types.is_dictionary(array.type):
        if isinstance(array, pa.ChunkedArray):
            array = array.unify_dictionaries() if array.num_chunks > 1 else array
            dictionary = array.chunk(0).dictionary if array.num_chunks else pa.array([], array.type.value_type)
            indices = pa.chunked_array([chunk.indices for chunk in array.chunks], array.type.index_type)
        else:
            dictionary, indices = array.dictionary, array.indices
        return arrow_to_numpy(one_array(indices)), dictionary
    encoded = pc.dictionary_encode(one_array(array))
    return arrow_to_numpy(encoded.indices), encoded.dictionary


def split_off(part: pa.Table, column: str, value: str) -> tuple[pa.Table, pa.Table]:
    """``part``'s rows whose text ``column`` (plain or against a dictionary per chunk) is ``value``, and the others:
    slices (no copy) when they are its last rows (one merchant's, in a file sorted by merchant), else copies. The
    rows of ``value`` keep in their dictionary-encoded columns only the values they hold (a slice keeps its row
    group's whole dictionary, 55,000 ids at 1,000,000 merchants, which the next part would otherwise carry)."""
    at = np.flatnonzero(_rows_of(part.column(column), value))
    if len(at) and at[0] + len(at) == part.num_rows:
        mine, others = part.slice(int(at[0])), part.slice(0, int(at[0]))
    else:
        rest = np.ones(part.num_rows, dtype=bool)
        rest[at] = False
        mine, others = (part.take(numpy_to_arrow(rows.astype(np.int64))) for rows in (at, np.flatnonzero(rest)))
    return compact_dictionaries(mine), others


def _rows_of(column: pa.ChunkedArray, value: str) -> np.ndarray:
    """Which rows of the text ``column`` (plain or against a dictionary per chunk) are ``value`` (a numpy bool
    array; a missing value is not): a dictionary chunk compares its indices with the value's code."""
    pieces = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            code = pc.index(chunk.dictionary, text_scalar(value, chunk.dictionary.type)).as_py()
            same = arrow_to_numpy(chunk.indices) == code if code >= 0 else np.zeros(len(chunk), bool)
        else:
            same = arrow_to_numpy(pc.fill_null(pc.equal(chunk, text_scalar(value, chunk.type)), False)) != 0
        pieces.append(same)
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=bool)


def compact_dictionaries(table: pa.Table) -> pa.Table:
    """``table`` with each dictionary-encoded column encoded again against the values it holds."""
    for at, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            column = table.column(at)
            table = table.set_column(at, field, pa.chunked_array(
                [chunk.dictionary_decode().dictionary_encode().cast(field.type) for chunk in column.chunks], field.type))
    return table
