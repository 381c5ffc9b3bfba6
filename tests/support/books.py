"""Tiny valid books built by hand for the schema and sources tests (no generator involved).

``good_tables()`` gives the three tables as all-string frames, exactly as a CSV reader sees them;
``TODAY`` is the date the tests validate against, so "future" never depends on the clock.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from cb_core.data.book import ACTIVITY_COLUMNS, MERCHANT_COLUMNS, OUTCOME_COLUMNS

TODAY = date(2026, 6, 15)
MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04")

_MERCHANTS = [
    # id, business, owner, reg no, category, region, opened, joined, bureau, card, income index
    ("M001", "한빛상회", "김민준", "123-45-67890", "fashion", "서울특별시", "2019-03-01", "2020-05-10",
     "712", "true", "1.08"),
    ("M002", "바다식품", "이서연", "234-56-78901", "food", "부산광역시", "2021-07-15", "2021-08-01",
     "", "FALSE", "0.93"),
    ("M003", "Green Pet Shop", "박지훈", "345-67-89012", "pets", "경기도", "2018-01-20", "2022-02-02",
     "655", "", "1.01"),
    ("M004", "소담가구", "최유나", "456-78-90123", "furniture", "제주특별자치도", "2023-09-09",
     "2023-09-09", "1000", "1", "0.87"),
]


def _activity_row(merchant: int, month_index: int, month: str) -> tuple[str, ...]:
    gmv = 1_000_000 * merchant + 250_000 * month_index
    orders = 40 * merchant + 5 * month_index
    rating = "" if (merchant, month_index) == (3, 0) else f"{4.0 + 0.1 * merchant + 0.05 * month_index:.2f}"
    return (
        f"M{merchant:03d}", month, str(gmv), str(orders), str(merchant + month_index),
        str(12_000 * month_index), str(30 * merchant + month_index), f"{0.2 + 0.05 * merchant:.2f}",
        str(20 + merchant), f"{1.5 + 0.25 * month_index:.2f}", rating, str(3 * merchant),
        str(month_index % 2), f"{0.01 * month_index:.2f}", str(gmv - 12_000 * month_index),
        str(500 * merchant + 10 * month_index), str(50_000 * merchant),
    )


def good_tables(with_outcomes: bool = True) -> dict[str, pd.DataFrame]:
    """A valid book as all-string frames: 4 merchants, 4 months of activity each, 3 outcomes."""
    merchants = pd.DataFrame(_MERCHANTS, columns=list(MERCHANT_COLUMNS), dtype="str")
    activity = pd.DataFrame(
        [_activity_row(m, i, month) for m in range(1, 5) for i, month in enumerate(MONTHS)],
        columns=list(ACTIVITY_COLUMNS), dtype="str")
    # Empty strings are how a CSV reader hands over blank cells after reading with dtype=str.
    merchants = merchants.replace("", pd.NA).astype("str")
    activity = activity.replace("", pd.NA).astype("str")
    tables = {"merchants": merchants, "monthly_activity": activity}
    if with_outcomes:
        outcomes = pd.DataFrame([("M001", "2026-01", "0", "0.02"), ("M002", "2026-01", "1", "0.31"),
                                 ("M004", "2026-02", "0", "0.05")],
                                columns=[*OUTCOME_COLUMNS, "true_pd"], dtype="str")
        tables["outcomes"] = outcomes
    return tables
