"""As-of feature snapshots: one row per merchant from months up to and including ``as_of``.

The activity features read each merchant's months over the last 15 months up to ``as_of`` (12 months
plus 3 for the year-over-year comparison; :mod:`._activity`: a C kernel, or numpy's dense arrays where no
compiler works); nothing after ``as_of`` is ever read. Months between a merchant's first row and
``as_of`` that have no row count as months without sales (the store closed); months before its
first row are unobserved (NaN).

The catalog (``data/feature_catalog.csv``) names and documents every feature built here.
"""
from __future__ import annotations

import os
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..data import categories, dictionary_codes, feature_catalog
from ..errors import ConfigError
from ..lazy import LazyModule
from ._activity import ACTIVITY_FEATURES, RATE_FIELDS, SUM_FIELDS, WINDOW, features_into
from ._columns import (FeatureColumns, flags, indices_of, is_arrow, numbers, one_array, positions_in, take, texts,
                       to_numpy)

pd = LazyModule("pandas")  # a score of the installed book computes its snapshot without it (_columns.py)

#: Parts of :func:`snapshot_in_parts` computed at once (at most the machine's cores).
PART_THREADS = 2
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_FIXED_MONTH_RE = re.compile(r"[0-9]{4}-[0-9]{2}\Z")  # what the fast path reads (the general path: the rest)
_FIXED_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def month_index(months: pd.Series | np.ndarray | str) -> np.ndarray | int:
    """'YYYY-MM' -> months since year 0 (vectorised)."""
    if isinstance(months, str):
        return int(months[:4]) * 12 + int(months[5:7]) - 1
    fixed = _fixed_width_months(months)
    if fixed is not None:
        return fixed
    # each distinct month is parsed once (a book has a few dozen months over millions of rows)
    codes, uniques = pd.factorize(pd.Series(months).astype(str))
    u = pd.Series(uniques, dtype=object).astype(str)
    index = u.str.slice(0, 4).astype(int).to_numpy() * 12 + u.str.slice(5, 7).astype(int).to_numpy() - 1
    return index[codes]


def _fixed_width_months(months) -> np.ndarray | None:
    """:func:`month_index` of Arrow-backed text that is all ``DDDD-DD`` (a validated book's months): Arrow
    encodes the column against its few distinct months (one hash per row, in C) and each distinct month is
    parsed once. None for anything else (other storage, a missing value, another length or character),
    which the general path reads.

    Parsing the column's bytes in numpy instead made int64 copies of every character: 18M rows took 5.7 s,
    most of it the kernel zeroing fresh pages for them; this takes 0.24 s (50,000 merchants: 15-20 ms)."""
    coded = _month_codes(months)
    return None if coded is None else coded[1][coded[0]]


def _month_codes(months) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_fixed_width_months` as each row's code (into the column's distinct months, in place for a
    dictionary-encoded column, else Arrow's hash) and each code's month: the activity kernel reads them so, without
    an 8-byte month per row (18M rows: 144 MB of fresh pages). None where :func:`_fixed_width_months` is."""
    column = months if isinstance(months, (pa.Array, pa.ChunkedArray)) else \
        getattr(getattr(months, "array", None), "_pa_array", None)
    if column is None or len(column) == 0 or column.null_count:
        return None
    text = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(text) or pa.types.is_large_string(text)):
        return None
    codes, dictionary = dictionary_codes(column)
    distinct = dictionary.to_pylist()
    if not all(isinstance(month, str) and _FIXED_MONTH_RE.match(month) for month in distinct):
        return None
    return codes, np.array([int(m[:4]) * 12 + int(m[5:7]) - 1 for m in distinct], dtype=np.int64)


def month_label(index: int) -> str:
    """Inverse of :func:`month_index` for one month."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def feature_names(include_sensitive: bool = True) -> list[str]:
    """Catalog feature names in catalog order."""
    return [n for n, s in feature_catalog().items() if include_sensitive or not s.sensitive]


def _date_month_index(dates: pd.Series | pa.Array) -> np.ndarray:
    """'YYYY-MM-DD' -> months since year 0, as floats (NaN: missing or not such a date). An Arrow array whose
    distinct values are all such dates (a validated book's) is read a distinct value at a time; anything else
    as pandas reads it. A pandas column stored in Arrow (the installed book's frames) is read as its Arrow array:
    pandas' own parse took 1.3 s a column at 1,000,000 merchants."""
    stored = getattr(getattr(dates, "array", None), "_pa_array", None)
    if stored is not None:
        dates = one_array(stored)
    if isinstance(dates, pa.Array):
        encoded = pc.dictionary_encode(dates)
        distinct = encoded.dictionary.to_pylist()
        try:
            checked = [date.fromisoformat(v) for v in distinct if _FIXED_DATE_RE.match(v)]
        except ValueError:  # e.g. 2024-02-30: pandas reads it as missing
            checked = []
        if len(checked) == len(distinct):
            of_distinct = np.array([d.year * 12 + d.month - 1 for d in checked] + [np.nan], dtype=float)
            return of_distinct[indices_of(encoded)]
        dates = dates.to_pandas()
    d = pd.to_datetime(dates.astype(str), format="%Y-%m-%d", errors="coerce")
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=float)


def _bureau_as_of(merchants, bureau_history, end: int, lookup) -> tuple[np.ndarray, np.ndarray]:
    """Bureau score and credit card of each merchant (frames or Arrow tables): the latest ``bureau_history``
    row up to month ``end`` (the last of them when a month has two; missing when there is none yet), or
    without a history the merchants table's values (today's, not point-in-time). ``lookup``: the merchants'
    positions of ids (:func:`~cb_core.features._columns.positions_in`)."""
    if bureau_history is None:
        return numbers(merchants, "bureau_score"), flags(merchants, "owner_has_credit_card")
    ids = texts(bureau_history, "merchant_id")
    if is_arrow(bureau_history):
        encoded = pc.dictionary_encode(ids)
        at = lookup(encoded.dictionary)[to_numpy(encoded.indices)]
    else:
        codes, distinct = pd.factorize(ids.astype(str))
        at = lookup(pd.Index(distinct))[codes]
    month = month_index(texts(bureau_history, "month"))
    rows = np.flatnonzero((month <= end) & (at >= 0))
    rows = rows[np.lexsort((rows, month[rows], at[rows]))]  # by merchant, then month, then row: the last counts
    last = rows[np.r_[at[rows][1:] != at[rows][:-1], True]] if len(rows) else rows
    n = len(texts(merchants, "merchant_id"))
    bureau, card = np.full(n, np.nan), np.full(n, np.nan)
    bureau[at[last]] = numbers(bureau_history, "bureau_score")[last]
    card[at[last]] = flags(bureau_history, "owner_has_credit_card")[last]
    return bureau, card


def _merchant_codes(activity: pd.DataFrame | pa.Table) -> tuple[np.ndarray, pd.Index | pa.Array]:
    """Each activity row's merchant as a code into the distinct ids (in order of first appearance)."""
    if isinstance(activity, pa.Table):  # an installed book's part: its ids' dictionary from Parquet, no frame made
        return dictionary_codes(activity.column("merchant_id"))
    codes, distinct = pd.factorize(activity["merchant_id"].astype(str))
    return codes, pd.Index(distinct)


def _activity_features(lookup, activity: pd.DataFrame | pa.Table, end: int, into: dict[str, np.ndarray],
                       has_rows: np.ndarray) -> None:
    """The activity features (:data:`ACTIVITY_FEATURES`) of the merchants of ``activity`` that have a row up to
    month ``end``, written at their positions among the merchants (``lookup``: :func:`._columns.positions_in`)
    into ``into`` (an array per feature), and ``has_rows`` set there (:func:`._activity.features_into`)."""
    # each distinct id is looked up once (Arrow's hash of the 18M ids, then 1M lookups), not every row
    codes, distinct = _merchant_codes(activity)
    where = lookup(distinct)  # -1: no such merchant
    months = activity.column("month") if isinstance(activity, pa.Table) else activity["month"]
    coded = _month_codes(months)  # (codes, month of each code); else each row's month
    features_into(activity, codes, coded if coded is not None else (month_index(months), None), where, end, into,
                  has_rows)


def snapshot(merchants: pd.DataFrame, activity: pd.DataFrame, as_of: str,
             bureau_history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features of every merchant with activity up to ``as_of``.

    Parameters
    ----------
    merchants, activity : DataFrame
        Validated ``merchants`` and ``monthly_activity`` tables.
    as_of : str
        Snapshot month ``YYYY-MM``; only months up to and including it are used.
    bureau_history : DataFrame, optional
        The ``bureau_history`` table: ``bureau_score``, ``thin_file`` and ``owner_has_credit_card``
        are then as of ``as_of``. Without it they are the merchants table's (today's) values.

    Returns
    -------
    DataFrame
        Index ``merchant_id`` (merchants with at least one activity row up to ``as_of``, in
        ``merchants`` order), one column per catalog feature; ``category`` is categorical with the
        shipped category list.
    """
    return snapshot_in_parts(merchants, [activity], as_of, bureau_history)


def snapshot_in_parts(merchants: pd.DataFrame, parts: Iterable[pd.DataFrame | pa.Table], as_of: str,
                      bureau_history: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`snapshot` of the activity given as ``parts``, frames or Arrow tables that each hold every row of the
    merchants they name (in any order; a merchant's rows are never split between two parts): the same
    frame, value for value, while only the parts being computed (:data:`PART_THREADS` at a time) and
    their arrays are held. The installed
    book gives its activity this way (:meth:`cb_core.data.Book.activity_parts`): at 1,000,000
    merchants the 18 million rows are never in memory at once."""
    ids, has_rows, f = snapshot_arrays(merchants, parts, as_of, bureau_history)
    kept = None if has_rows.all() else np.flatnonzero(has_rows)
    f["category"] = pd.Categorical(merchants["category"].astype(str).to_numpy(), categories=list(categories()))
    # each column is the array computed (no copy: one block per column, where one 2-D block cost 280 MB of
    # fresh pages at 1,000,000 merchants), or its merchants with activity
    columns = {name: f[name] if kept is None else f[name][kept] for name in feature_names()}
    index = pd.Index(ids if kept is None else ids[kept], name="merchant_id")
    return pd.DataFrame(columns, index=index, copy=False)


def snapshot_columns(merchants: pa.Table, parts: Iterable[pa.Table], as_of: str,
                     bureau_history: pa.Table | None = None) -> FeatureColumns:
    """:func:`snapshot_in_parts` of Arrow tables (the installed book's, :meth:`cb_core.data.Book.arrow_table`)
    as columns, without pandas: the command line's score of the installed book (0.25 s less at 50,000
    merchants). The same merchants and values as the frame."""
    ids, has_rows, f = snapshot_arrays(merchants, parts, as_of, bureau_history)
    kept = np.flatnonzero(has_rows)
    values = {name: f[name][kept] for name in f}
    values["category"] = take(texts(merchants, "category"), kept)
    return FeatureColumns(take(ids, kept), values, feature_names(), categories())


def snapshot_arrays(merchants, parts: Iterable, as_of: str, bureau_history=None
                    ) -> tuple[Any, np.ndarray, dict[str, np.ndarray]]:
    """What both give: the merchants' ids (as their table holds them: pandas' array for a frame, Arrow for an
    Arrow table), which of them have activity up to ``as_of``, and every numeric feature's array over all of them.
    ``merchants`` and ``bureau_history``: frames or Arrow tables."""
    if not isinstance(as_of, str) or not _MONTH_RE.match(as_of):
        raise ConfigError(f"as_of must be a month YYYY-MM; got {as_of!r}", key="err_asof_as_month_yyyy_mm", as_of=as_of)
    end = month_index(as_of)
    ids = texts(merchants, "merchant_id")
    lookup = positions_in(ids)
    ids = ids if is_arrow(merchants) else ids.astype(str).array  # a frame's: as pandas holds them (no copy)
    n = len(ids)
    has_rows = np.zeros(n, dtype=bool)
    f = {name: np.full(n, np.nan) for name in ACTIVITY_FEATURES}

    def keep(done: Future) -> None:
        done.result()  # the part's features are in f and has_rows (each merchant's rows are in one part only)

    # numpy lets go of Python's lock in its loops: two parts at a time keep both cores busy
    workers = max(1, min(PART_THREADS, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="cb-snapshot") as pool:
        running: deque[Future] = deque()
        for part in parts:
            running.append(pool.submit(_activity_features, lookup, part, end, f, has_rows))
            del part
            if len(running) >= workers:
                keep(running.popleft())
        while running:
            keep(running.popleft())

    f["tenure_months"] = np.clip(end - _date_month_index(texts(merchants, "joined_platform_on")), 0, None)
    f["business_age_months"] = np.clip(end - _date_month_index(texts(merchants, "opened_on")), 0, None)
    bureau, card = _bureau_as_of(merchants, bureau_history, end, lookup)
    f["bureau_score"] = bureau
    f["thin_file"] = np.isnan(bureau).astype(float)
    f["owner_has_credit_card"] = card
    f["region_income_index"] = numbers(merchants, "region_income_index")
    return ids, has_rows, f
