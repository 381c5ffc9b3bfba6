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
