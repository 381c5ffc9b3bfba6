"""A model's PD for booked loans at their booking month (as-of snapshots: nothing after it is read)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Book
from ..features import snapshot

__all__ = ["pd_at_booking", "scores_at_booking"]


def scores_at_booking(book: Book, model, loan_ids: pd.Index | list | None = None) -> pd.DataFrame:
    """``model.score`` (pd, score, grade) of each loan's merchant on the snapshot of its booking month.

    Parameters
    ----------
    loan_ids : list-like, optional
        Only these loans (default: all).

    Returns
    -------
    DataFrame
        ``pd``, ``score``, ``grade`` indexed by ``loan_id`` (NaN where the merchant had no activity
        up to booking).
    """
    from .cohorts import _loan_tables

    loans, _ = _loan_tables(book)
    if loan_ids is not None:
        loans = loans[loans["loan_id"].isin(pd.Index(loan_ids))]
    out = pd.DataFrame(np.nan, index=pd.Index(loans["loan_id"].to_numpy(), name="loan_id"),
                       columns=["pd", "score", "grade"])
    for month, group in loans.groupby(loans["booked_month"].astype(str), sort=True):
        snap = snapshot(book.merchants, book.activity, month)
        merchants = pd.Index(group["merchant_id"][group["merchant_id"].isin(snap.index)].unique())
        if len(merchants):
            scored = model.score(snap.loc[merchants]).reindex(group["merchant_id"].to_numpy())
            out.loc[group["loan_id"].to_numpy(), ["pd", "score", "grade"]] = scored[["pd", "score", "grade"]].to_numpy(float)
    return out


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
