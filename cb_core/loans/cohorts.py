"""Vintage curves: the cumulative bad rate by months on book of each booking cohort.

A cohort is the loans booked in one month (``booked_month``). A cohort is observed up to the last
month of the loan tables (``as_of``): at months on book 0 .. ``as_of - cohort``. At each of those,
``loans`` is the cohort's loans (in the group; a loan repaid earlier still counts, and stays good),
``bads`` those that met the definition at or before that month on book, ``cum_bad_rate`` their
ratio. The definition is one of the registry's (:mod:`cb_core.loans.definitions`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..data import Book
from ..errors import ConfigError
from ..features import month_index, month_label
from .definitions import Definition, definition, first_bad_mob

__all__ = ["VINTAGE_COLUMNS", "VINTAGE_GROUPS", "loan_segments", "vintages"]

VINTAGE_COLUMNS: tuple[str, ...] = ("cohort", "group", "mob", "loans", "bads", "cum_bad_rate")
#: ``--by`` choices and the column each groups on (``category`` comes from ``merchants``).
VINTAGE_GROUPS: dict[str, str] = {"grade": "grade_at_booking", "partner": "partner", "product": "product_id",
                                  "category": "category"}


def _loan_tables(book: Book) -> tuple[pd.DataFrame, pd.DataFrame]:
    if book.loans is None or book.loan_months is None:
        where = f" {book.source}" if book.source else ""
        raise ConfigError(f"the book{where} has no loans and loan_months tables; booked-loan analytics need "
                          "both (python -m cb_core demo-data writes them)", key="err_cohorts_book_where_loans_loan", where=where)
    return book.loans, book.loan_months


_MONTH = re.compile(r"^[0-9]{4}-(?:0[1-9]|1[0-2])$")


def _as_of_index(as_of: str | None, loan_months: pd.DataFrame) -> int:
    """Month number of ``as_of`` (default: the last month of ``loan_months``), checked."""
    if len(loan_months) == 0:
        raise ConfigError("loan_months has no rows: nothing to analyse", key="err_cohorts_loan_months_rows_nothing")
    last = int(np.max(month_index(loan_months["month"].astype(str))))
    if as_of is None:
        return last
    if not isinstance(as_of, str) or not _MONTH.match(as_of):
        raise ConfigError(f"as_of must be a month YYYY-MM; got {as_of!r}", key="err_cohorts_as_month_yyyy_mm", as_of=as_of)
    if month_index(as_of) > last:
        raise ConfigError(f"as_of {as_of} is after the last month of loan_months ({month_label(last)})", key="err_cohorts_as_as_after_last", as_of=as_of, last=month_label(last))
    return int(month_index(as_of))


def loan_segments(book: Book, by: str | None) -> pd.Series:
    """The group of each loan (index ``loan_id``) for ``by`` in :data:`VINTAGE_GROUPS`; "all" for None."""
    loans, _ = _loan_tables(book)
    ids = loans["loan_id"].to_numpy()
    if by is None:
        return pd.Series("all", index=ids, name="group")
    if by not in VINTAGE_GROUPS:
        raise ConfigError(f"by must be one of {', '.join(VINTAGE_GROUPS)}; got {by!r}", key="err_cohorts_by_one_vintage_groups", VINTAGE_GROUPS=', '.join(VINTAGE_GROUPS), by=by)
    if by == "category":
        cats = book.merchants.set_index("merchant_id")["category"]
        values = cats.reindex(loans["merchant_id"].to_numpy()).to_numpy()
    else:
        values = loans[VINTAGE_GROUPS[by]].to_numpy()
    return pd.Series(values, index=ids, name="group").astype(str)


def vintages(book: Book, *, by: str | None = None, bad: str | Definition = "dpd_90",
             as_of: str | None = None) -> pd.DataFrame:
    """Cumulative bad rate by cohort, group and months on book.

    Parameters
    ----------
    book : Book
        With ``loans`` and ``loan_months`` (and ``merchants`` for ``by="category"``).
    by : str, optional
        ``grade``, ``partner``, ``product`` or ``category``; None: one group, ``all``.
    bad : str or Definition
        A registry key (``dpd_30``, ``dpd_60``, ``dpd_90``, ``charge_off``, ``bad``).
    as_of : str, optional
        Last month observed (default: the last month of ``loan_months``).

    Returns
    -------
    DataFrame
        :data:`VINTAGE_COLUMNS`, sorted by cohort, group, mob.
    """
    loans, months = _loan_tables(book)
    d = definition(bad)
    last = _as_of_index(as_of, months)
    first = first_bad_mob(loans, months, d).to_numpy()
    cohort = loans["booked_month"].astype(str).to_numpy()
    horizon = last - np.asarray(month_index(loans["booked_month"].astype(str)))
    frame = pd.DataFrame({"cohort": cohort, "group": loan_segments(book, by).to_numpy(), "horizon": horizon,
                          "first": first})
    frame = frame[frame["horizon"] >= 0]
    parts = []
    for (c, g), grp in frame.groupby(["cohort", "group"], sort=True):
        h = int(grp["horizon"].iloc[0])
        mob = np.arange(h + 1)
        hits = np.sort(grp["first"].dropna().to_numpy())
        bads = np.searchsorted(hits, mob, side="right")
        parts.append(pd.DataFrame({"cohort": c, "group": g, "mob": mob, "loans": len(grp), "bads": bads}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            VINTAGE_COLUMNS, ("str", "str", "int64", "int64", "int64", "float64"))})
    out = pd.concat(parts, ignore_index=True)
    out["cum_bad_rate"] = out["bads"] / out["loans"]
    return out[list(VINTAGE_COLUMNS)].astype({"mob": "int64", "loans": "int64", "bads": "int64"})
