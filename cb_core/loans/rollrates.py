"""Roll rates: how loans move between delinquency states from one month to the next.

Every pair of consecutive rows of a loan (month ``m`` and ``m + 1``) is one transition from the
status at ``m`` to the status at ``m + 1``; a loan's last row has no transition. Counts, the
balance at ``m`` that moved, and each count's share of its ``from`` state.
"""
from __future__ import annotations

import pandas as pd

from ..data import LOAN_STATUSES, Book
from ..features import month_index

__all__ = ["ROLL_COLUMNS", "roll_matrix", "roll_rates"]

ROLL_COLUMNS: tuple[str, ...] = ("from_status", "to_status", "loans", "balance_krw", "share")
#: States a loan can move out of (repaid and charged off end a loan).
_FROM = tuple(s for s in LOAN_STATUSES if s not in ("repaid", "charged_off"))


def roll_rates(book: Book, *, loan_ids: pd.Index | list | None = None, month: str | None = None) -> pd.DataFrame:
    """Transitions between statuses, every ``from``/``to`` pair (zeros included).

    Parameters
    ----------
    book : Book
        With ``loans`` and ``loan_months``.
    loan_ids : list-like, optional
        A segment: only these loans (default: the whole book).
    month : str, optional
        Only transitions *from* this month ``YYYY-MM`` (default: every month).

    Returns
    -------
    DataFrame
        :data:`ROLL_COLUMNS`: ``loans`` moving, the ``balance_krw`` they held in the ``from``
        month, and ``share`` = loans / all loans leaving that ``from`` state (NaN when none left).
    """
    from .cohorts import _loan_tables

    _, months = _loan_tables(book)
    rows = months if loan_ids is None else months[months["loan_id"].isin(pd.Index(loan_ids))]
    period = month_index(rows["month"].astype(str))
    frame = pd.DataFrame({"loan": rows["loan_id"].to_numpy(), "period": period, "status": rows["status"].to_numpy(),
                          "balance": rows["balance_krw"].to_numpy()}).sort_values(["loan", "period"])
    nxt = frame.groupby("loan", sort=False).shift(-1)
    moved = frame.assign(to=nxt["status"], next_period=nxt["period"])
    moved = moved[moved["next_period"].eq(moved["period"] + 1)]
    if month is not None:
        moved = moved[moved["period"].eq(month_index(month))]
    counts = moved.groupby(["status", "to"]).agg(loans=("loan", "size"), balance_krw=("balance", "sum"))
    grid = pd.MultiIndex.from_product([_FROM, LOAN_STATUSES], names=["status", "to"])
    out = counts.reindex(grid, fill_value=0).reset_index()
    out.columns = ["from_status", "to_status", "loans", "balance_krw"]
    total = out.groupby("from_status")["loans"].transform("sum")
    out["share"] = out["loans"] / total.where(total > 0)
    return out.astype({"loans": "int64", "balance_krw": "int64"})


def roll_matrix(rates: pd.DataFrame, value: str = "share") -> pd.DataFrame:
    """:func:`roll_rates` as a from x to matrix of ``value`` (``share``, ``loans`` or ``balance_krw``)."""
    return rates.pivot(index="from_status", columns="to_status", values=value).reindex(
        index=list(_FROM), columns=list(LOAN_STATUSES))
