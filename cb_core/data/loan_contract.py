"""The contract of the two optional booked-loan tables, ``loans`` and ``loan_months``.

``loans`` holds one row per loan a partner booked through the brokerage, with what the platform
knew at booking (score, grade, PD, the policy version in force). ``loan_months`` holds one row per
loan and month from the booking month until the loan ends (repaid or charged off) or the book
ends: balance after the month's payments, what was paid, days past due at month end and the
delinquency status. Column checks run like every other table's (:mod:`cb_core.data.schema`);
the rules across rows and tables are :func:`cb_core.data._loan_rules.loan_problems`.
"""
from __future__ import annotations

from ._spec import MONEY as _MONEY, ColumnSpec

__all__ = ["LOAN_COLUMNS", "LOAN_CONTRACT", "LOAN_MONTH_COLUMNS", "LOAN_STATUSES", "REPAYMENT_KINDS",
           "STATUS_DAYS", "TERMINAL_STATUSES"]

LOAN_COLUMNS: tuple[str, ...] = (
    "loan_id", "merchant_id", "partner", "product_id", "booked_month", "amount_krw", "apr_pct",
    "term_months", "repayment", "score_at_booking", "grade_at_booking", "pd_at_booking", "policy_version",
)
LOAN_MONTH_COLUMNS: tuple[str, ...] = ("loan_id", "month", "balance_krw", "paid_krw", "days_past_due", "status")

#: How a loan is repaid (as the partner catalog's ``repayment``).
REPAYMENT_KINDS: tuple[str, ...] = ("amortizing", "daily_settlement_pct")
#: Statuses of ``loan_months.status``, in the order of a loan's life.
LOAN_STATUSES: tuple[str, ...] = ("current", "dpd_1_29", "dpd_30_59", "dpd_60_89", "dpd_90_plus",
                                  "charged_off", "repaid")
#: Days past due each status allows (inclusive; None: no upper bound). A charged-off loan may be
#: written off at any delinquency (fraud, insolvency), so any days past due go with it.
STATUS_DAYS: dict[str, tuple[int, int | None]] = {
    "current": (0, 0), "dpd_1_29": (1, 29), "dpd_30_59": (30, 59), "dpd_60_89": (60, 89),
    "dpd_90_plus": (90, None), "charged_off": (0, None), "repaid": (0, 0),
}
#: Statuses after which a loan has no further row.
TERMINAL_STATUSES: tuple[str, ...] = ("charged_off", "repaid")


#: table -> column -> spec, merged into :data:`cb_core.data.schema.CONTRACT`.
LOAN_CONTRACT: dict[str, dict[str, ColumnSpec]] = {
    "loans": {
        "loan_id": ColumnSpec("id", unique=True),
        "merchant_id": ColumnSpec("id"),
        "partner": ColumnSpec("text"),
        "product_id": ColumnSpec("id"),
        "booked_month": ColumnSpec("month"),
        "amount_krw": ColumnSpec("whole", low=0, low_open=True, unit=" of KRW"),
        "apr_pct": ColumnSpec("number", low=0, high=100),
        "term_months": ColumnSpec("whole", low=1, high=120),
        "repayment": ColumnSpec("text"),
        "score_at_booking": ColumnSpec("whole", low=1, high=1000),
        "grade_at_booking": ColumnSpec("whole", low=1, high=10),
        "pd_at_booking": ColumnSpec("number", low=0, high=1),
        "policy_version": ColumnSpec("text"),
    },
    "loan_months": {
        "loan_id": ColumnSpec("id"),
        "month": ColumnSpec("month"),
        "balance_krw": _MONEY,
        "paid_krw": _MONEY,
        "days_past_due": ColumnSpec("whole", low=0),
        "status": ColumnSpec("text"),
    },
}
