"""Square's rule: no new offer to a merchant with an overdue loan, or one frozen from the watch-list.

A merchant is **blocked** when

- ``overdue_loan``: one of its loans is open (its latest month's status is neither ``repaid`` nor
  ``charged_off``) and more than 0 days past due on that latest month (as of ``as_of`` when given);
- ``frozen``: an officer froze its further offers (a watch action in the store, which the caller
  reads and passes in: this package does not read the store).

:func:`blocked_merchants` lists them with the reason (an overdue loan first when both hold);
:func:`block_offers` takes them out of a book's matched offers (:func:`cb_core.offers.match_book`),
and :func:`block_reason` answers for one merchant. Every path that offers loans calls these, so
the rule holds everywhere: Merchant review's offers, the partner pools, the batch's offer columns.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..data import TERMINAL_STATUSES, Book
from ..errors import ConfigError

__all__ = ["BLOCK_COLUMNS", "BLOCK_REASONS", "block_offers", "block_reason", "blocked_merchants"]

#: Why a merchant gets no new offer, most serious first (label keys ``block_reason_<reason>``).
BLOCK_REASONS: tuple[str, ...] = ("overdue_loan", "frozen")
#: Columns of :func:`blocked_merchants`.
BLOCK_COLUMNS: tuple[str, ...] = ("merchant_id", "reason", "loan_id", "days_past_due")
_MONTH = re.compile(r"^[0-9]{4}-(?:0[1-9]|1[0-2])$")


def _overdue(book: Book, as_of: str | None) -> pd.DataFrame:
    """Open loans past due on their latest month: merchant_id, loan_id, days_past_due (most days first)."""
    if book.loans is None or book.loan_months is None or len(book.loan_months) == 0:
        return pd.DataFrame({"merchant_id": [], "loan_id": [], "days_past_due": []})
    lm = book.loan_months
    months = lm["month"].astype(str)
    if as_of is not None:
        if not isinstance(as_of, str) or not _MONTH.match(as_of):
            raise ConfigError(f"as_of must be a month YYYY-MM; got {as_of!r}", key="err_blocks_as_month_yyyy_mm", as_of=as_of)
        lm, months = lm[months <= as_of], months[months <= as_of]  # YYYY-MM sorts as text
    # each loan's latest month (one row per loan and month, so exactly one row per loan)
    latest = lm[months.to_numpy() == months.groupby(lm["loan_id"].to_numpy()).transform("max").to_numpy()]
    late = latest[~latest["status"].isin(TERMINAL_STATUSES) & (latest["days_past_due"] > 0)]
    owner = book.loans.set_index("loan_id")["merchant_id"]
    out = pd.DataFrame({"merchant_id": late["loan_id"].map(owner).astype(str).to_numpy(),
                        "loan_id": late["loan_id"].astype(str).to_numpy(),
                        "days_past_due": late["days_past_due"].astype("int64").to_numpy()})
    return out.sort_values(["merchant_id", "days_past_due", "loan_id"], ascending=[True, False, True])


def blocked_merchants(book: Book, frozen: Iterable[str] = (), *, as_of: str | None = None) -> pd.DataFrame:
    """The merchants that get no new offer and why, one row each.

    Parameters
    ----------
    book : Book
        Its ``loans`` and ``loan_months`` when it has them (without them only ``frozen`` counts).
    frozen : iterable of str
        Merchant ids whose offers an officer froze (``Store.frozen_merchants()``).
    as_of : str, optional
        Month ``YYYY-MM``: judge each loan on its latest month up to then (default: its latest month).

    Returns
    -------
    DataFrame
        :data:`BLOCK_COLUMNS`, sorted by ``merchant_id``: ``reason`` in :data:`BLOCK_REASONS`
        (``overdue_loan`` when both hold); ``loan_id`` and ``days_past_due`` of its most overdue
        open loan (None and 0 for a frozen merchant without one).
    """
    if isinstance(frozen, str):
        raise ConfigError(f"frozen must be a collection of merchant ids, not one text; got {frozen!r}", key="err_blocks_frozen_collection_merchant_ids", frozen=frozen)
    late = _overdue(book, as_of).drop_duplicates("merchant_id", keep="first")
    late = late.assign(reason="overdue_loan")
    frozen_ids = sorted({str(m) for m in frozen} - set(late["merchant_id"]))
    held = pd.DataFrame({"merchant_id": frozen_ids, "reason": "frozen", "loan_id": None,
                         "days_past_due": np.zeros(len(frozen_ids), dtype="int64")})
    out = pd.concat([late, held], ignore_index=True) if len(late) else held
    out["days_past_due"] = out["days_past_due"].astype("int64")
    out["loan_id"] = out["loan_id"].astype(object).where(out["loan_id"].notna(), None)
    return out[list(BLOCK_COLUMNS)].sort_values("merchant_id").reset_index(drop=True)


def block_reason(blocked: pd.DataFrame, merchant_id: str) -> str | None:
    """Why ``merchant_id`` gets no new offer (a :data:`BLOCK_REASONS` key), or None when it may get one."""
    hit = blocked.loc[blocked["merchant_id"] == merchant_id, "reason"]
    return None if hit.empty else str(hit.iloc[0])


def block_offers(matched: pd.DataFrame, blocked: pd.DataFrame | Iterable[str]) -> pd.DataFrame:
    """:func:`~cb_core.offers.match_book`'s result with the blocked merchants' offers taken out.

    Their rows stay (a merchant is still in the book) but no product is eligible: ``eligible`` is
    False, the offer terms and the best offer are empty (NaN), ``("best", "n_eligible")`` is 0.
    ``blocked`` is :func:`blocked_merchants`' frame or a collection of merchant ids. Returns a copy.
    """
    ids = blocked["merchant_id"] if isinstance(blocked, pd.DataFrame) else list(blocked)
    out = matched.copy()
    rows = out.index.isin(pd.Index(ids).astype(str))
    if not rows.any():
        return out
    for column in out.columns:
        field = column[0]
        if field == "eligible":
            out.loc[rows, column] = False
        elif column == ("best", "n_eligible"):
            out.loc[rows, column] = 0
        elif field != "failed":
            out.loc[rows, column] = np.nan if out[column].dtype.kind in "fc" else None
    return out
