"""Rules of the booked-loan tables that span rows or tables (the column checks are the contract's).

:func:`loan_problems` returns plain ``(table, column, rule, rows, example)`` tuples that
:mod:`cb_core.data.schema` turns into its report entries, so these rules need nothing from there.
Each rule looks only at values that passed their own column checks, so one bad cell is one problem.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ._schema_parse import _by_code, _Column, _isin, _month_text
from .loan_contract import LOAN_STATUSES, REPAYMENT_KINDS, STATUS_DAYS, TERMINAL_STATUSES

Found = tuple[str, str, str, pd.Index, object]


def _status_rule() -> str:
    spans = ", ".join(f"{s} {lo}" + ("+" if hi is None else ("" if hi == lo else f"–{hi}"))
                      for s, (lo, hi) in STATUS_DAYS.items())
    return f"status does not match days_past_due ({spans} days)"


def _flag(found: list[Found], table: str, column: str, rule: str, bad: pd.Series,
          shown: pd.Series | Callable[[object], object]) -> None:
    """Report the rows of ``bad``; ``shown`` is the example column, or gives the example of the
    first bad row's label (so the text of an example is built only for a row that is reported)."""
    bad = bad.fillna(False).astype(bool)
    if bad.any():
        first = bad.idxmax()
        found.append((table, column, rule, bad.index[bad], shown(first) if callable(shown) else shown.loc[first]))


def loan_problems(tables: dict[str, dict[str, _Column]]) -> list[Found]:
    """Problems of ``loans`` and ``loan_months`` across rows and tables.

    ``tables`` maps a table to its columns as checked (only columns that were present). Rules:
    repayment and status are known words; every ``loan_months.loan_id`` is a loan; no month is
    before its loan's ``booked_month``; a loan's rows start at its booking month and have no gap;
    status matches days past due (:data:`~cb_core.data.loan_contract.STATUS_DAYS`); a repaid loan
    has balance 0; nothing follows a repaid or charged-off month. (Merchants that exist, one row
    per loan and month and balances that are never negative are checked with the other tables.)
    """
    found: list[Found] = []
    loans, months = tables.get("loans", {}), tables.get("loan_months", {})
    if "repayment" in loans:
        s = loans["repayment"].values
        _flag(found, "loans", "repayment", f"unknown repayment; expected one of {', '.join(REPAYMENT_KINDS)}",
              s.notna() & ~s.isin(REPAYMENT_KINDS), s)
    status = months["status"].values if "status" in months else None
    if status is not None:
        _flag(found, "loan_months", "status", f"unknown status; expected one of {', '.join(LOAN_STATUSES)}",
              status.notna() & ~status.isin(LOAN_STATUSES), status)
    if "loan_months" in tables and "loans" not in tables:
        found.append(("loan_months", "*", "loan_months needs the loans table (loans.csv or loans.parquet)",
                      pd.Index([]), None))
    if not {"loan_id"} <= set(months):
        return found
    ids = months["loan_id"].values
    known = loans["loan_id"].values.dropna().unique() if "loan_id" in loans else None
    if known is not None:
        _flag(found, "loan_months", "loan_id", "loan_id not found in loans", ids.notna() & ~_isin(ids, known), ids)
    period = months["month"].months[0] if "month" in months else None
    if period is not None and known is not None and "booked_month" in loans:
        booked = pd.Series(loans["booked_month"].months[0].to_numpy(), index=loans["loan_id"].values.to_numpy())
        booked = booked[~booked.index.duplicated()]
        start = pd.Series(booked.reindex(ids.to_numpy()).to_numpy(), index=ids.index)
        month = months["month"].values

        def before(at: object) -> str:
            return f"{ids[at]} {month[at]} < {_month_text(int(start[at])) if pd.notna(start[at]) else ''}"

        _flag(found, "loan_months", "month", "month is before the loan's booked_month", period < start, before)
        rows = pd.DataFrame({"loan": ids, "period": period, "start": start}).dropna()
        rows = rows[rows["period"] >= rows["start"]].drop_duplicates(["loan", "period"]).sort_values(["loan", "period"])
        previous = rows.groupby("loan", sort=False)["period"].shift()
        first = previous.isna()
        late_start = first & (rows["period"] > rows["start"])
        gap = ~first & (rows["period"] - previous > 1)
        _flag(found, "loan_months", "month", "a loan's rows must start at its booked_month",
              late_start.reindex(ids.index, fill_value=False), lambda at: f"{ids[at]} from {month[at]}")
        _flag(found, "loan_months", "month", "months not contiguous: one row per loan and month from booking",
              gap.reindex(ids.index, fill_value=False), lambda at: f"{ids[at]} {month[at]}")
    if status is not None and "days_past_due" in months:
        dpd = months["days_past_due"].numbers[0]
        col = months["status"]  # days allowed, looked up once per distinct status

        def allowed(bounds: dict[str, float]) -> pd.Series:
            return pd.Series(_by_code(col.codes, col.uniques.map(bounds).astype("float64").to_numpy()), index=status.index)

        low = allowed({s: lo for s, (lo, _) in STATUS_DAYS.items()})
        high = allowed({s: (np.inf if hi is None else hi) for s, (_, hi) in STATUS_DAYS.items()})
        _flag(found, "loan_months", "status", _status_rule(),
              dpd.notna() & low.notna() & ((dpd < low) | (dpd > high)),
              lambda at: f"{status[at]} with days_past_due {months['days_past_due'].values[at]}")
    if status is not None and "balance_krw" in months:
        balance = months["balance_krw"].numbers[0]
        _flag(found, "loan_months", "balance_krw", "a repaid loan must have balance 0",
              status.eq("repaid") & balance.gt(0), lambda at: str(months["balance_krw"].values[at]))
    if status is not None and period is not None:
        end = pd.Series(period.where(status.isin(TERMINAL_STATUSES)).to_numpy(), index=ids.index)
        last = end.groupby(ids.to_numpy()).transform("min")
        _flag(found, "loan_months", "month", "row after the loan was repaid or charged off",
              period > last, lambda at: f"{ids[at]} {months['month'].values[at]}")
    return found
