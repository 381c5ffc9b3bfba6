"""The activity features of a part of the book (:data:`ACTIVITY_FEATURES`): one row per merchant from its
monthly rows over the last :data:`WINDOW` months up to a month. Two ways that give the same values bit for bit
(tests/features/test_activity_native.py): the C kernel (``_activity_native.c``, built and loaded as every C kernel
of the engine is, :mod:`cb_core.native`), which lays each merchant's months out on the stack, one merchant after
the other; and numpy (where no C compiler works, or ``CB_NATIVE_KERNELS=0``), which lays a part's rows into dense
(merchant x month) arrays, one per field, and reduces them. At 1,000,000 merchants numpy makes some thirty
arrays of 6 MB for each of the 19 parts, every one in fresh pages (bench/RESULTS.md has the figures).
"""
from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import native
from ._columns import to_numpy

WINDOW = 15
SUM_FIELDS = ("gmv_krw", "orders", "returns", "refund_krw", "unique_buyers", "active_listings",
               "reviews", "disputes", "settlement_krw", "search_clicks", "ad_spend_krw")
RATE_FIELDS = ("repeat_buyer_rate", "inventory_turnover", "ship_delay_rate")
#: The features computed from a merchant's monthly activity (the others come from the merchants table
#: and the bureau history).
ACTIVITY_FEATURES = ("gmv_3m_avg_krw", "gmv_12m_total_krw", "gmv_trend_3m", "gmv_yoy", "gmv_volatility_12m",
                     "gmv_max_drop_12m", "orders_3m_avg", "orders_trend_3m", "avg_ticket_krw", "months_active",
                     "zero_sales_months_12m", "return_rate_6m", "return_rate_trend", "refund_ratio_6m",
                     "inventory_turnover_6m", "active_listings_3m", "unique_buyers_3m_avg", "repeat_buyer_rate_6m",
                     "avg_rating_6m", "rating_trend", "reviews_per_order_6m", "dispute_rate_6m", "dispute_trend",
                     "ship_delay_rate_6m", "search_clicks_trend", "search_clicks_per_listing", "ad_spend_ratio_6m",
                     "settlement_ratio_6m")

#: The columns the kernel reads, in its order (``_activity_native.c``: the summed fields, the rates, the rating).
FIELDS = SUM_FIELDS + RATE_FIELDS + ("avg_rating",)
SOURCE = Path(__file__).with_name("_activity_native.c")


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _trend(last: np.ndarray, prior: np.ndarray, prior_seen: np.ndarray) -> np.ndarray:
    """last/prior - 1, clipped to [-1, 3]; growth from zero counts as +3; NaN when prior unseen."""
    out = np.where(prior > 0, _safe_div(last, np.where(prior > 0, prior, 1.0)) - 1.0,
                   np.where(last > 0, 3.0, 0.0))
    out = np.clip(out, -1.0, 3.0)
    return np.where(prior_seen, out, np.nan)


def _column(activity: pd.DataFrame | pa.Table, name: str, rows: np.ndarray) -> np.ndarray:
    """The values of ``rows`` of one activity column, numbers as stored (the arrays they are written
    into are floats: the same floats as converting the whole column, without a float copy of any row).
    An Arrow part's column is read in place (numbers without a missing value) or, with missing values,
    as pandas reads it (missing: NaN)."""
    if isinstance(activity, pa.Table):
        return to_numpy(activity.column(name))[rows]
    values = activity[name].to_numpy()
    if values.dtype.kind in "iuf":
        return values[rows]  # integers become floats where they are stored (no float copy of them here)
    return activity[name].to_numpy(dtype=float)[rows]  # nullable or text-typed columns: as before


def _key(sl: slice) -> tuple[int, int]:
    return sl.start, sl.stop


def features_into(activity: Any, codes: np.ndarray, months: tuple[np.ndarray, np.ndarray | None], where: np.ndarray,
                  end: int, into: dict[str, np.ndarray], has_rows: np.ndarray) -> None:
    """The features of the merchants of ``activity`` (a frame or an Arrow table) that have a row up to month
    ``end``, written at their positions among the merchants into ``into`` (a float64 array per feature of
    :data:`ACTIVITY_FEATURES`), and ``has_rows`` (bool) set there; nothing is written for the others. ``codes``:
    each row's merchant as a code into its distinct ids; ``where``: each code's position among the merchants
    (-1: none, its rows are left out); ``months``: each row's month (:func:`.asof.month_index`) and None, or each
    row's code into the second array, of months. Every value is computed from the merchant's own rows alone.
    Parts whose merchants differ may be computed at once into the same arrays."""
    kernels = library()
    if kernels is None:
        rows_months = months[0] if months[1] is None else months[1][months[0]]
        at, values = dense_features(activity, codes, rows_months, where, end)
        has_rows[at] = True
        for name in ACTIVITY_FEATURES:
            into[name][at] = values[name]
        return
    if not (has_rows.dtype == np.bool_ and has_rows.flags.c_contiguous and all(
            into[name].dtype == np.float64 and into[name].flags.c_contiguous and into[name].flags.writeable and
            len(into[name]) == len(has_rows) for name in ACTIVITY_FEATURES)):
        raise ValueError("features_into needs writable float64 arrays and a bool array, all of the merchants' length")
    where = np.ascontiguousarray(where, dtype=np.int64)
    if len(where) and where.max(initial=-1) >= len(has_rows):
        raise ValueError("a merchant position is beyond the arrays")
    codes, month_codes = (np.ascontiguousarray(a if a.dtype in (np.int32, np.int64) else a.astype(np.int64))
                          for a in (codes, months[0]))
    table = None if months[1] is None else np.ascontiguousarray(months[1], dtype=np.int64)
    bounds, columns, held = _chunks(activity)
    arrays = (ctypes.c_void_p * len(ACTIVITY_FEATURES))(*(into[name].ctypes.data for name in ACTIVITY_FEATURES))
    if kernels.cb_activity_features(len(codes), codes.ctypes.data, int(codes.dtype == np.int32), month_codes.ctypes.data,
                                    int(month_codes.dtype == np.int32), None if table is None else table.ctypes.data,
                                    where.ctypes.data, len(where), int(end), len(bounds) - 1, bounds.ctypes.data,
                                    columns, arrays, has_rows.ctypes.data) != 0:
        raise MemoryError(f"the activity features' working memory for {len(codes):,} rows could not be had")
    del held


class _Chunk(ctypes.Structure):
    """Mirror of ``chunk_t`` in the C source."""

    _fields_ = [("data", ctypes.c_void_p), ("valid", ctypes.c_void_p), ("offset", ctypes.c_int64),
                ("kind", ctypes.c_int64)]


_KINDS = {np.dtype(np.float64): 0, np.dtype(np.int64): 1, np.dtype(np.int32): 2}


def _chunks(activity: Any) -> tuple[np.ndarray, Any, list]:
    """The :data:`FIELDS` of ``activity`` for the kernel, read where they are: the rows where each chunk starts
    (and the end), the chunks' descriptors (field after field) and what must be kept alive meanwhile. An Arrow
    table's chunks are taken as they are, missing values by their validity bitmap (no copy, where numpy's way
    copies a column of two chunks and makes floats of one with missing values); a column of another type than
    float64, int64 or int32 as float64. A frame's columns are one chunk each, read as :func:`_column` reads them."""
    if isinstance(activity, pa.Table):
        table = activity.select(list(FIELDS))
        lengths = [len(chunk) for chunk in table.column(0).chunks]
        if any([len(chunk) for chunk in column.chunks] != lengths for column in table.columns):
            table = table.combine_chunks()  # columns chunked differently (not a book's parts): one chunk each
            lengths = [table.num_rows]
        held: list = [table]
        chunks = []
        for column in table.columns:
            for chunk in column.chunks:
                if chunk.type not in _ARROW_KINDS:
                    chunk = pc.cast(chunk, pa.float64(), safe=False)
                    held.append(chunk)
                valid, data = chunk.buffers()[:2]
                chunks.append((data.address if data is not None else None,
                               valid.address if valid is not None and chunk.null_count else None,
                               chunk.offset, _ARROW_KINDS[chunk.type]))
    else:
        held = [_whole_column(activity, name) for name in FIELDS]
        lengths = [len(activity)]
        chunks = [(values.ctypes.data, None, 0, _KINDS[values.dtype]) for values in held]
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return bounds, (_Chunk * len(chunks))(*chunks), held


_ARROW_KINDS = {pa.float64(): 0, pa.int64(): 1, pa.int32(): 2}


def _whole_column(frame: Any, name: str) -> np.ndarray:
    """A frame's column of every row for the kernel, as :func:`_column` reads it: as stored when it holds
    float64, int64 or int32, else as floats (missing: NaN)."""
    values = frame[name].to_numpy()
    if values.dtype.kind not in "iuf":
        values = frame[name].to_numpy(dtype=float)
    return np.ascontiguousarray(values if values.dtype in _KINDS else values.astype(np.float64))


def build() -> Path:
    """Compile the kernel into its cache path (unless built already) and return that path
    (:func:`cb_core.native.build`)."""
    return native.build(SOURCE)


def _declare(lib: Any) -> None:
    p, i64 = ctypes.c_void_p, ctypes.c_int64
    lib.cb_activity_features.argtypes = [i64, p, i64, p, i64, p, p, i64, i64, i64, p, ctypes.POINTER(_Chunk), p, p]
    lib.cb_activity_features.restype = ctypes.c_int
    lib.cb_activity_chunk_size.restype = ctypes.c_int64
    if (lib.cb_activity_count(), lib.cb_activity_fields()) != (len(ACTIVITY_FEATURES), len(FIELDS)):
        raise RuntimeError("the library's features differ from ACTIVITY_FEATURES and FIELDS")
    if lib.cb_activity_chunk_size() != ctypes.sizeof(_Chunk):
        raise RuntimeError("the library's chunk layout differs from its ctypes mirror")


#: The loaded kernel (built first if needed), or None (then :func:`dense_features`).
library = native.Once(lambda: native.load(build, _declare, "activity features computed with numpy"))


def dense_features(activity: Any, codes: np.ndarray, act_month: np.ndarray, where: np.ndarray, end: int
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`features_of_rows` with numpy: the rows laid into dense (merchant x month) arrays."""
    keep = (act_month <= end) & (where[codes] >= 0)
    codes, mon = codes[keep], act_month[keep]
    n = len(where)

    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, mon)
    kept = np.flatnonzero(keep)
    del act_month, keep
    gmv_all = _column(activity, "gmv_krw", kept)
    months_active = np.bincount(codes, weights=(gmv_all > 0).astype(float), minlength=n)
    del gmv_all

    start = end - WINDOW + 1
    in_win = mon >= start
    flat = codes[in_win] * WINDOW + (mon[in_win] - start)
    rows = kept[in_win]  # activity rows in the window, gathered once per field
    del kept, codes, mon, in_win
    col = np.arange(WINDOW) + start
    # observed: on or after the merchant's first month (closed months count as zero sales)
    observed = col[None, :] >= first[:, None]

    W = WINDOW
    last3, prior3, last6, last12 = slice(W - 3, W), slice(W - 6, W - 3), slice(W - 6, W), slice(W - 12, W)
    yoy3 = slice(0, 3)
    # fields whose month-by-month values the formulas below read; the others only as window sums,
    # taken as each field is laid out (1M merchants: 0.9 GB of arrays held instead of 1.8 GB)
    whole = {"gmv_krw", "orders", "active_listings", "reviews", *RATE_FIELDS, "avg_rating"}
    arrays: dict[str, np.ndarray] = {}
    sums: dict[tuple[str, slice], np.ndarray] = {}
    for name in SUM_FIELDS:
        a = np.zeros(n * WINDOW)
        a[flat] = _column(activity, name, rows)
        a = a.reshape(n, WINDOW)
        # window sums before the unobserved months become NaN: they hold 0 here (a merchant's rows are
        # never before its first month), so these are the NaN-skipping sums, without a copy per sum
        for sl in (last3, prior3, last6, last12, yoy3):
            sums[(name, _key(sl))] = a[:, sl].sum(axis=1)
        if name in whole:
            a[~observed] = np.nan
            arrays[name] = a
    for name in RATE_FIELDS + ("avg_rating",):
        a = np.full(n * WINDOW, np.nan)
        a[flat] = _column(activity, name, rows)
        arrays[name] = a.reshape(n, WINDOW)
    del flat, rows

    def s(field: str, sl: slice) -> np.ndarray:
        got = sums.get((field, _key(sl)))
        return np.nansum(arrays[field][:, sl], axis=1) if got is None else got

    def seen(sl: slice) -> np.ndarray:
        return observed[:, sl].any(axis=1)

    def nanmean(a: np.ndarray) -> np.ndarray:
        cnt = np.sum(~np.isnan(a), axis=1)
        return _safe_div(np.nansum(a, axis=1), cnt.astype(float))

    gmv = arrays["gmv_krw"]
    orders = arrays["orders"]
    n_seen3 = observed[:, last3].sum(axis=1).astype(float)
    f: dict[str, np.ndarray] = {}
    f["gmv_3m_avg_krw"] = _safe_div(s("gmv_krw", last3), n_seen3)
    f["gmv_12m_total_krw"] = s("gmv_krw", last12)
    f["gmv_trend_3m"] = _trend(s("gmv_krw", last3), s("gmv_krw", prior3), seen(prior3))
    f["gmv_yoy"] = _trend(s("gmv_krw", last3), s("gmv_krw", yoy3), observed[:, yoy3].all(axis=1))
    g12 = gmv[:, last12]
    cnt12 = np.sum(~np.isnan(g12), axis=1)
    mean12 = _safe_div(np.nansum(g12, axis=1), cnt12.astype(float))
    with np.errstate(invalid="ignore"):
        var12 = _safe_div(np.nansum((g12 - mean12[:, None]) ** 2, axis=1), cnt12.astype(float))
    f["gmv_volatility_12m"] = np.where(cnt12 >= 3, _safe_div(np.sqrt(var12), mean12), np.nan)
    peak = np.where(cnt12 > 0, np.nanmax(np.where(np.isnan(g12), -np.inf, g12), axis=1), np.nan)
    f["gmv_max_drop_12m"] = np.where(peak > 0, 1.0 - _safe_div(np.nan_to_num(gmv[:, -1]), peak), np.nan)
    f["orders_3m_avg"] = _safe_div(s("orders", last3), n_seen3)
    f["orders_trend_3m"] = _trend(s("orders", last3), s("orders", prior3), seen(prior3))
    f["avg_ticket_krw"] = _safe_div(s("gmv_krw", last6), s("orders", last6))
    f["months_active"] = months_active
    f["zero_sales_months_12m"] = np.sum(g12 == 0, axis=1).astype(float)

    o6, o3, op3 = s("orders", last6), s("orders", last3), s("orders", prior3)
    f["return_rate_6m"] = _safe_div(s("returns", last6), o6)
    f["return_rate_trend"] = _safe_div(s("returns", last3), o3) - _safe_div(s("returns", prior3), op3)
    f["refund_ratio_6m"] = _safe_div(s("refund_krw", last6), s("gmv_krw", last6))
    f["inventory_turnover_6m"] = nanmean(arrays["inventory_turnover"][:, last6])
    f["active_listings_3m"] = nanmean(arrays["active_listings"][:, last3])
    f["unique_buyers_3m_avg"] = _safe_div(s("unique_buyers", last3), n_seen3)
    selling = orders > 0
    f["repeat_buyer_rate_6m"] = nanmean(np.where(selling, arrays["repeat_buyer_rate"], np.nan)[:, last6])

    rv = arrays["reviews"]
    rating_x_reviews = np.where(rv > 0, arrays["avg_rating"] * rv, 0.0)

    def weighted_rating(sl: slice) -> np.ndarray:
        return _safe_div(np.nansum(rating_x_reviews[:, sl], axis=1), np.nansum(rv[:, sl], axis=1))

    f["avg_rating_6m"] = weighted_rating(last6)
    f["rating_trend"] = weighted_rating(last3) - weighted_rating(prior3)
    f["reviews_per_order_6m"] = _safe_div(s("reviews", last6), o6)
    f["dispute_rate_6m"] = _safe_div(s("disputes", last6), o6)
    f["dispute_trend"] = _safe_div(s("disputes", last3), o3) - _safe_div(s("disputes", prior3), op3)
    f["ship_delay_rate_6m"] = nanmean(np.where(selling, arrays["ship_delay_rate"], np.nan)[:, last6])
    f["search_clicks_trend"] = _trend(s("search_clicks", last3), s("search_clicks", prior3), seen(prior3))
    f["search_clicks_per_listing"] = _safe_div(s("search_clicks", last3), s("active_listings", last3))
    f["ad_spend_ratio_6m"] = _safe_div(s("ad_spend_krw", last6), s("gmv_krw", last6))
    f["settlement_ratio_6m"] = _safe_div(s("settlement_krw", last6), s("gmv_krw", last6))

    has_rows = first <= end
    return where[has_rows], {name: values[has_rows] for name, values in f.items()}
