"""Book -> feature tables: the training table (one as-of snapshot per outcome month) and the current
snapshot the CLI, the app and batch jobs score."""
from __future__ import annotations

import pandas as pd

from ..data import Book
from ..errors import ModelError
from .asof import snapshot


def training_table(book: Book) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series | None, pd.Series]:
    """Stack one as-of snapshot per outcome ``snapshot_month`` with its outcomes.

    Returns
    -------
    X : DataFrame
        Features (RangeIndex), one row per outcome row whose merchant had activity by then.
    y : Series
        ``defaulted_12m`` (0/1).
    time : Series
        The snapshot month of each row (for out-of-time validation).
    true_pd : Series or None
        The generator's true PD when the outcomes carry it (demo books).
    merchant_id : Series
        The merchant of each row.
    """
    if book.outcomes is None or book.outcomes.empty:
        raise ModelError("the book has no outcomes table: training needs rows of merchant_id, "
                         "snapshot_month, defaulted_12m")
    parts = []
    for month, rows in book.outcomes.groupby("snapshot_month", sort=True):
        snap = snapshot(book.merchants, book.activity, str(month))
        joined = rows.set_index("merchant_id").join(snap, how="inner")
        parts.append(joined.reset_index())
    table = pd.concat(parts, ignore_index=True)
    features = list(snap.columns)
    X = table[features]
    X["category"] = X["category"].astype(snap["category"].dtype)
    true_pd = table["true_pd"].astype(float) if "true_pd" in table else None
    return (X, table["defaulted_12m"].astype(int), table["snapshot_month"].astype(str), true_pd,
            table["merchant_id"].astype(str))


def current_snapshot(book: Book, as_of: str | None = None) -> pd.DataFrame:
    """Features of every merchant as of the book's last month (or ``as_of``)."""
    return snapshot(book.merchants, book.activity, as_of or book.last_month)


__all__ = ["training_table", "current_snapshot"]
