"""The true PD of a book's merchants at a month, or at every month of a path, from its tables alone.

Both go through the generator's own PD function (:mod:`cb_core.synth._pd`, documented in
:mod:`cb_core.synth.generate`), so they agree exactly with ``outcomes.true_pd``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Book
from ..errors import ConfigError
from ._pd import _PD_INPUTS, _true_pd
from .generate import _month_label, _parse_month, _reference_tables

__all__ = ["true_pd_at", "true_pd_path"]


def _rows(book: Book, rows: np.ndarray | None, month_codes: np.ndarray, label_abs: np.ndarray) -> dict:
    """The PD function's inputs for activity rows ``rows`` (all rows when None)."""
    cat_codes, _ = _reference_tables()
    merchants, activity = book.merchants, book.activity
    row_month = label_abs[month_codes] if rows is None else label_abs[month_codes][rows]
    ids = pd.Index(merchants["merchant_id"])
    who = activity["merchant_id"] if rows is None else activity["merchant_id"].iloc[rows]
    row_merchant = ids.get_indexer(who)
    if (row_merchant < 0).any():
        unknown = who.iloc[np.flatnonzero(row_merchant < 0)[0]]
        raise ConfigError(f"activity has merchant_id(s) missing from merchants, e.g. {unknown!r}", key="err_truth_activity_merchant_id_s", unknown=unknown)
    cat = pd.Index(cat_codes).get_indexer(merchants["category"])
    if (cat < 0).any():
        raise ConfigError(f"unknown category {merchants['category'].iloc[np.flatnonzero(cat < 0)[0]]!r}", key="err_truth_unknown_category_iloc", iloc=merchants['category'].iloc[np.flatnonzero(cat < 0)[0]])
    joined = merchants["joined_platform_on"]
    join_abs = (joined.str.slice(0, 4).astype(np.int64) * 12 + joined.str.slice(5, 7).astype(np.int64) - 1).to_numpy()
    # float64 is exact for the counts and accepts nullable (Int64) columns from loaded books
    values = {c: activity[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in _PD_INPUTS}
    if rows is not None:
        values = {c: v[rows] for c, v in values.items()}
    bureau = merchants["bureau_score"].to_numpy(dtype=np.float64, na_value=np.nan)
    return {"row_merchant": row_merchant, "row_month": row_month, "values": values, "n": len(merchants),
            "join_abs": join_abs, "bureau": bureau, "cat": cat, "cat_codes": cat_codes, "ids": ids}


def _months(book: Book) -> tuple[np.ndarray, np.ndarray]:
    month_codes, month_labels = pd.factorize(book.activity["month"])
    label_abs = np.array([_parse_month("activity.month", str(m)) for m in month_labels], dtype=np.int64)
    return month_codes, label_abs


def _check_month(name: str, month: object, label_abs: np.ndarray) -> int:
    at = _parse_month(name, month)
    if at not in set(label_abs.tolist()):
        span = f"{_month_label(label_abs.min())} to {_month_label(label_abs.max())}" if len(label_abs) else "none"
        raise ConfigError(f"{name} must be a month of the book ({span}); got {month!r}", key="err_truth_name_month_book_span", name=name, span=span, month=month)
    return at


def true_pd_at(book: Book, as_of: str) -> pd.Series:
    """True probability of default of each merchant with activity in month ``as_of``.

    The same function of observable behaviour up to and including ``as_of`` that
    :func:`~cb_core.synth.generate_book` uses for ``outcomes.true_pd``.

    Parameters
    ----------
    book : Book
        A book with the contract's ``merchants`` and ``monthly_activity`` columns.
    as_of : str
        Month ``YYYY-MM``; a month of the book.

    Returns
    -------
    Series
        ``true_pd`` (float64) indexed by ``merchant_id``, in merchants-table order.

    Raises
    ------
    ConfigError
        If ``as_of`` is not a month of the book, or the tables do not match each other
        (activity of an unknown merchant, an unknown category).
    """
    month_codes, label_abs = _months(book)
    at = _check_month("as_of", as_of, label_abs)
    row_month = label_abs[month_codes]
    r = _rows(book, np.flatnonzero((row_month >= at - 11) & (row_month <= at)), month_codes, label_abs)
    pd_all, active = _true_pd(r["row_merchant"], r["row_month"], r["values"], r["n"], at, r["join_abs"],
                              r["bureau"], r["cat"], r["cat_codes"])
    return pd.Series(pd_all[active], index=pd.Index(r["ids"][active], name="merchant_id"), name="true_pd")


def true_pd_path(book: Book, months: list[str] | None = None) -> pd.DataFrame:
    """True PD of every merchant at each of ``months``: :func:`true_pd_at` for many months at once.

    The tables are prepared once (at a million merchants, the per-month calls spent most of their
    time re-reading the activity table).

    Parameters
    ----------
    months : list of str, optional
        Months of the book, ``YYYY-MM`` (default: every month of the book, in order).

    Returns
    -------
    DataFrame
        Index ``merchant_id`` (every merchant, merchants-table order), one float64 column per month;
        NaN where the merchant has no activity row that month (where :func:`true_pd_at` has none).

    Raises
    ------
    ConfigError
        As :func:`true_pd_at`, naming the month that is not in the book.
    """
    month_codes, label_abs = _months(book)
    if months is None:
        months = [_month_label(m) for m in sorted(set(label_abs.tolist()))]
    at = [_check_month("months", m, label_abs) for m in months]
    row_month = label_abs[month_codes]
    order = np.argsort(row_month, kind="stable")  # rows by month: each month's 12-month window is a slice
    r = _rows(book, order, month_codes, label_abs)
    out = np.full((r["n"], len(at)), np.nan)
    for j, month in enumerate(at):
        lo, hi = np.searchsorted(r["row_month"], [month - 11, month + 1])
        pd_all, active = _true_pd(r["row_merchant"][lo:hi], r["row_month"][lo:hi],
                                  {c: v[lo:hi] for c, v in r["values"].items()}, r["n"], month, r["join_abs"],
                                  r["bureau"], r["cat"], r["cat_codes"])
        out[active, j] = pd_all[active]
    return pd.DataFrame(out, index=pd.Index(r["ids"], name="merchant_id"), columns=list(months))
