"""The snapshot's inputs read from a frame or an Arrow table alike, and its result as plain columns.

The installed book's command-line score reads Arrow tables and computes numpy arrays only, without importing
pandas (0.25 s of a 1 s ``score --explain`` at 50,000 merchants); the app and training read frames. Both go
through the same computation (:func:`cb_core.features.asof.snapshot_arrays`): only how a column is taken
from its table is said here, once per storage.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..data import arrow_take as take, arrow_to_numpy as to_numpy, one_array
from ..lazy import LazyModule

pd = LazyModule("pandas")


def is_arrow(table: Any) -> bool:
    return isinstance(table, pa.Table)


def numbers(table: Any, name: str) -> np.ndarray:
    """A number column as floats, a missing value as NaN."""
    if is_arrow(table):
        return to_numpy(table.column(name), floats=True)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def flags(table: Any, name: str) -> np.ndarray:
    """A yes/no column as 1.0/0.0, a missing value as NaN."""
    if is_arrow(table):
        return to_numpy(table.column(name), floats=True)
    return table[name].astype("boolean").astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def texts(table: Any, name: str) -> Any:
    """A text column as stored: an Arrow array (one chunk) or a pandas Series."""
    if is_arrow(table):
        return one_array(table.column(name))
    return table[name]


def positions_in(ids: Any) -> Callable[[Any], np.ndarray]:
    """A lookup of merchant ids into their positions in ``ids`` (-1: not there), built once and shared by
    threads: pandas' hash index for a frame's ids, a dict for an Arrow array's (no pandas). The argument of
    the lookup is an Arrow array or a pandas Index of distinct ids.

    Distinct ids (Arrow) that stand in ``ids`` one after the other, in that order, are found by comparing them
    with that run, in Arrow: an installed book's activity part against a merchants table in the same order (the
    demo book's, any book sorted by id), one lookup and one comparison instead of one lookup per merchant (at
    1,000,000 merchants 1 CPU s over the parts' 1,000,000 ids, most of it making Python strings of them)."""
    stored = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else getattr(getattr(ids, "array", None),
                                                                             "_pa_array", None)
    stored = None if stored is None else one_array(stored)
    built: list[Callable[[Any], np.ndarray]] = []
    lock = threading.Lock()

    def each(distinct: Any) -> np.ndarray:
        """One lookup per id; its table is built on first use (none when every part is a run), once for all
        threads."""
        with lock:
            if not built:
                built.append(_hashed(ids))
        return built[0](distinct)

    def lookup(distinct: Any) -> np.ndarray:
        if stored is not None and isinstance(distinct, pa.Array) and len(distinct) and not distinct.null_count:
            # the first id as an Arrow scalar of the ids' own type (another type is converted through pandas)
            start = stored.index(distinct.slice(0, 1).cast(stored.type)[0]).as_py()
            if 0 <= start and start + len(distinct) <= len(stored) and \
                    pc.equal(stored.slice(start, len(distinct)), distinct).true_count == len(distinct):
                return np.arange(start, start + len(distinct), dtype=np.intp)
        return each(distinct)
    return lookup


def _hashed(ids: Any) -> Callable[[Any], np.ndarray]:
    """:func:`positions_in`'s lookup of one id at a time."""
    if isinstance(ids, (pa.Array, pa.ChunkedArray)):
        where = {merchant: at for at, merchant in enumerate(ids.to_pylist())}

        def lookup(distinct: Any) -> np.ndarray:
            values = distinct.to_pylist() if isinstance(distinct, (pa.Array, pa.ChunkedArray)) else list(distinct)
            return np.fromiter((where.get(v, -1) for v in values), dtype=np.intp, count=len(values))
        return lookup
    index = pd.Index(np.asarray(ids.astype(str).to_numpy()))
    index.get_indexer(index[:1])  # the hash table is built here, before two threads share it

    def lookup_frame(distinct: Any) -> np.ndarray:
        if isinstance(distinct, (pa.Array, pa.ChunkedArray)):
            distinct = pd.Index(distinct.to_pandas())
        return index.get_indexer(distinct)
    return lookup_frame


class FeatureColumns:
    """A snapshot as columns: ``index`` (the merchants' ids, an Arrow array), ``columns`` (feature names in
    catalog order) and one numpy array per feature; ``category`` as text (Arrow), read by the model through
    :meth:`codes`. What :func:`cb_core.features.snapshot_in_parts` gives as a frame, value for value."""

    def __init__(self, index: pa.Array, values: dict[str, Any], names: Iterable[str], shipped: Iterable[str]):
        self.index = index
        self.columns = list(names)
        self._values = values
        self._shipped = set(shipped)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def codes(self, name: str, levels: list[Any]) -> np.ndarray:
        """A text column's values as their positions in ``levels`` (floats; NaN for a missing value, one not
        shipped, or one not among the levels): what the frame's categorical gives the model."""
        encoded = pc.dictionary_encode(self._values[name])
        position = {level: at for at, level in enumerate(levels)}
        of_distinct = np.array([position.get(v, np.nan) if v in self._shipped else np.nan
                                for v in encoded.dictionary.to_pylist()] + [np.nan], dtype=float)
        return of_distinct[indices_of(encoded)]


def indices_of(encoded: pa.DictionaryArray) -> np.ndarray:
    """A dictionary-encoded array's indices into its dictionary, a missing value as one past its end."""
    indices = to_numpy(encoded.indices, floats=bool(encoded.null_count))
    if encoded.null_count:
        indices = np.where(np.isnan(indices), len(encoded.dictionary), indices)
    return indices.astype(np.intp)
