"""Per merchant: its booked loans and where each stands, and a strip of its recent sales.

What Merchant review and the Watch-list show about a merchant beside the book-wide analytics:
:func:`merchant_loans` (every loan with its latest month's balance, days past due and status) and
:func:`sales_strips` (the last months' sales of several merchants, for a sparkline each).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..data import Book
from ..errors import ConfigError
from ..features import month_index

__all__ = ["MERCHANT_LOAN_COLUMNS", "merchant_loans", "sales_strips"]

#: Columns of :func:`merchant_loans`.
MERCHANT_LOAN_COLUMNS: tuple[str, ...] = ("loan_id", "partner", "product_id", "booked_month", "amount_krw",
                                          "latest_month", "balance_krw", "days_past_due", "status")


def merchant_loans(book: Book, merchant_id: str) -> pd.DataFrame:
    """The loans booked to ``merchant_id``, newest booking first, each as of its latest month.

    Returns
    -------
    DataFrame
        :data:`MERCHANT_LOAN_COLUMNS`; empty (same columns) when the merchant has no loan or the book
        has no loan tables. ``status`` is the latest month's (``current``, ``dpd_1_29``, ... ``repaid``).
    """
    if not isinstance(merchant_id, str) or not merchant_id:
        raise ConfigError(f"merchant_id must be a non-empty text; got {merchant_id!r}", key="err_per_merchant_merchant_id_non_empty", merchant_id=merchant_id)
    empty = pd.DataFrame({c: [] for c in MERCHANT_LOAN_COLUMNS})
    if book.loans is None or book.loan_months is None:
        return empty
    mine = book.loans[book.loans["merchant_id"].astype(str) == merchant_id]
    if mine.empty:
        return empty
    lm = book.loan_months[book.loan_months["loan_id"].isin(mine["loan_id"])]
    latest = lm.assign(_p=np.asarray(month_index(lm["month"].astype(str)))) \
        .sort_values(["loan_id", "_p"]).drop_duplicates("loan_id", keep="last").set_index("loan_id")
    out = mine[["loan_id", "partner", "product_id", "booked_month", "amount_krw"]].copy()
    out["latest_month"] = out["loan_id"].map(latest["month"].astype(str))
    for column in ("balance_krw", "days_past_due", "status"):
        out[column] = out["loan_id"].map(latest[column])
    out["booked_month"] = out["booked_month"].astype(str)
    return out.sort_values(["booked_month", "loan_id"], ascending=[False, True])[list(MERCHANT_LOAN_COLUMNS)] \
        .reset_index(drop=True)


def sales_strips(book: Book, merchant_ids: Iterable[str], months: int = 12,
                 as_of: str | None = None) -> pd.Series:
    """Each merchant's monthly sales over the ``months`` months up to ``as_of`` (default: the book's
    last month), oldest first; a month without an activity row counts 0.

    Returns
    -------
    Series
        Index: the merchant ids as given; values: lists of ``months`` floats.
    """
    if isinstance(months, bool) or not isinstance(months, int) or not 2 <= months <= 60:
        raise ConfigError(f"months must be a whole number within 2–60; got {months!r}", key="err_per_merchant_months_whole_number_within", months=months)
    ids = pd.Index([str(m) for m in merchant_ids])
    last = int(month_index(as_of or book.last_month))
    first = last - months + 1
    act = book.activity
    period = np.asarray(month_index(act["month"].astype(str)))
    keep = (period >= first) & (period <= last) & act["merchant_id"].isin(ids).to_numpy()
    grid = np.zeros((len(ids), months))
    rows = ids.get_indexer(act["merchant_id"][keep])
    grid[rows, period[keep] - first] = act["gmv_krw"].to_numpy(dtype=float, na_value=0.0)[keep]
    return pd.Series(list(grid), index=ids, name="sales").map(list)
