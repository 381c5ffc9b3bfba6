"""A model's PD for booked loans at their booking month (as-of snapshots: nothing after it is read)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Book
from ..features import snapshot

__all__ = ["pd_at_booking"]


def pd_at_booking(book: Book, model) -> pd.Series:
    """PD of each loan's merchant by ``model`` on the snapshot of the loan's booking month.

    Returns
    -------
    Series
        ``pd`` indexed by ``loan_id`` (NaN where the merchant had no activity up to booking).
    """
    from .cohorts import _loan_tables

    loans, _ = _loan_tables(book)
    out = pd.Series(np.nan, index=loans["loan_id"].to_numpy(), name="pd")
    for month, group in loans.groupby(loans["booked_month"].astype(str), sort=True):
        snap = snapshot(book.merchants, book.activity, month)
        merchants = group["merchant_id"][group["merchant_id"].isin(snap.index)]
        if len(merchants):
            pd_ = model.predict_pd(snap.loc[pd.Index(merchants.unique())])
            out[group["loan_id"].to_numpy()] = pd_.reindex(group["merchant_id"].to_numpy()).to_numpy()
    return out
