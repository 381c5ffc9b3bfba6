"""A model's PD for booked loans at their booking month (as-of snapshots: nothing after it is read)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Book
from ..features import snapshot

__all__ = ["pd_at_booking", "scores_at_booking"]


def merchant_tables(book: Book, merchant_ids) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """``merchants``, ``activity`` and ``bureau_history`` of only these merchants, so that the many
    as-of snapshots of booked loans read their rows alone (every feature is one merchant's own; at a
    million merchants a whole-book snapshot per booking month took minutes)."""
    wanted = pd.Index(pd.unique(np.asarray(merchant_ids, dtype=object)))
    merchants = book.merchants[book.merchants["merchant_id"].isin(wanted)]
    activity = book.activity[book.activity["merchant_id"].isin(wanted)]
    history = book.bureau_history
    if history is not None:
        history = history[history["merchant_id"].isin(wanted)]
    return merchants, activity, history


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
    own_merchants, own_activity, own_history = merchant_tables(book, loans["merchant_id"])
    for month, group in loans.groupby(loans["booked_month"].astype(str), sort=True):
        snap = snapshot(own_merchants, own_activity, month, own_history)
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
    own_merchants, own_activity, own_history = merchant_tables(book, loans["merchant_id"])
    for month, group in loans.groupby(loans["booked_month"].astype(str), sort=True):
        snap = snapshot(own_merchants, own_activity, month, own_history)
        merchants = group["merchant_id"][group["merchant_id"].isin(snap.index)]
        if len(merchants):
            pd_ = model.predict_pd(snap.loc[pd.Index(merchants.unique())])
            out[group["loan_id"].to_numpy()] = pd_.reindex(group["merchant_id"].to_numpy()).to_numpy()
    return out
