"""A hand-made book of four loans whose vintages, roll rates, backtest and watch-list are worked out
by hand in the tests (no generator involved).

Loans (booked, grade, PD at booking, merchant and category):

- A 2025-01, grade 2, PD 0.02, M001 fashion: current to the end (2026-02, mob 13); balance
  1,000,000 - 50,000 x mob.
- B 2025-01, grade 2, PD 0.04, M002 food: 15, 45, 75, 105 days past due at mob 1-4, charged off at
  mob 5 (135 days); balance 2,000,000.
- C 2025-01, grade 5, PD 0.10, M003 pets: 15 days past due at mob 2, cured at mob 3, repaid at mob 4;
  balance 500,000 (0 when repaid).
- D 2025-02, grade 5, PD 0.20, M004 furniture: current to mob 8, then 20, 50, 80, 110 days past due at
  mob 9-12 (2026-02); balance 3,000,000.

Activity, 2025-01..2026-02 for every merchant: sales 1,000,000, 100 orders, refunds 10,000, no
dispute, rating 4.8 from 10 reviews; except M001's last three months (sales 300,000) and M004's
last month (refunds 100,000).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cb_core.data import ACTIVITY_COLUMNS, LOAN_COLUMNS, LOAN_MONTH_COLUMNS, Book
from cb_core.features import month_label

_STR = pd.StringDtype(na_value=np.nan)
FIRST = 2025 * 12  # 2025-01
LAST = FIRST + 13  # 2026-02
_STATUS = {0: "current", 15: "dpd_1_29", 20: "dpd_1_29", 45: "dpd_30_59", 50: "dpd_30_59", 75: "dpd_60_89",
           80: "dpd_60_89", 105: "dpd_90_plus", 110: "dpd_90_plus"}

LOANS = [
    ("A", "M001", "Hanbit Bank", "BANK-01", "2025-01", 1_000_000, 5.0, 24, "amortizing", 700, 2, 0.02, "settings"),
    ("B", "M002", "Hanbit Bank", "BANK-01", "2025-01", 2_000_000, 5.0, 24, "amortizing", 690, 2, 0.04, "settings"),
    ("C", "M003", "Nuri Capital", "CAP-01", "2025-01", 500_000, 11.0, 24, "amortizing", 600, 5, 0.10, "settings"),
    ("D", "M004", "Nuri Capital", "CAP-01", "2025-02", 3_000_000, 11.0, 24, "amortizing", 590, 5, 0.20, "settings"),
]


def _months() -> list[tuple]:
    rows = [("A", FIRST + mob, 1_000_000 - 50_000 * mob, 0) for mob in range(14)]
    rows += [("B", FIRST + mob, 2_000_000, dpd) for mob, dpd in enumerate((0, 15, 45, 75, 105))]
    rows.append(("B", FIRST + 5, 2_000_000, "charged_off"))
    rows += [("C", FIRST + mob, 500_000, dpd) for mob, dpd in enumerate((0, 0, 15, 0))]
    rows.append(("C", FIRST + 4, 0, "repaid"))
    rows += [("D", FIRST + 1 + mob, 3_000_000, 0) for mob in range(9)]
    rows += [("D", FIRST + 1 + 9 + k, 3_000_000, dpd) for k, dpd in enumerate((20, 50, 80, 110))]
    out = []
    for loan, period, balance, dpd in rows:
        if dpd == "charged_off":
            out.append((loan, month_label(period), balance, 0, 135, "charged_off"))
        elif dpd == "repaid":
            out.append((loan, month_label(period), 0, 500_000, 0, "repaid"))
        else:
            out.append((loan, month_label(period), balance, 0 if dpd else 50_000, dpd, _STATUS[dpd]))
    return out


def _activity() -> pd.DataFrame:
    rows = []
    for m, merchant in enumerate(("M001", "M002", "M003", "M004"), start=1):
        for period in range(FIRST, LAST + 1):
            gmv = 300_000 if merchant == "M001" and period > LAST - 3 else 1_000_000
            refund = 100_000 if merchant == "M004" and period == LAST else 10_000
            rows.append({"merchant_id": merchant, "month": month_label(period), "gmv_krw": gmv, "orders": 100,
                         "returns": 1, "refund_krw": refund, "unique_buyers": 80, "repeat_buyer_rate": 0.3,
                         "active_listings": 20, "inventory_turnover": 1.0, "avg_rating": 4.8, "reviews": 10,
                         "disputes": 0, "ship_delay_rate": 0.01, "settlement_krw": gmv - refund,
                         "search_clicks": 500, "ad_spend_krw": 0})
    return pd.DataFrame(rows, columns=list(ACTIVITY_COLUMNS))


def hand_book() -> Book:
    merchants = pd.DataFrame({"merchant_id": ["M001", "M002", "M003", "M004"],
                              "category": ["fashion", "food", "pets", "furniture"]}).astype(_STR)
    loans = pd.DataFrame(LOANS, columns=list(LOAN_COLUMNS))
    loan_months = pd.DataFrame(_months(), columns=list(LOAN_MONTH_COLUMNS))
    return Book(merchants=merchants, activity=_activity(), loans=loans, loan_months=loan_months, source="hand")
