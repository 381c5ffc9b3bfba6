"""Observed rates from score at decision: each outcome row scored as of its own snapshot month, on a
hand-built four-merchant book where today's score already reflects a past default."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cb_core.data import ACTIVITY_COLUMNS, validate_tables
from cb_core.features import current_snapshot
from cb_core.strategy import SCORED_AT_DECISION, Policy, decision_frame, evaluate, strategy_frame
from tests.support.books import TODAY, good_tables

MONTHS = [str(p) for p in pd.period_range("2025-01", "2026-04", freq="M")]
DEFAULT_MONTH = "2025-08"  # M002 defaults then; its sales stop


def _row(merchant: str, month: str, selling: bool) -> tuple:
    gmv, orders = (3_000_000, 60) if selling else (0, 0)
    return (merchant, month, gmv, orders, 0, 0, orders // 2, 0.3 if selling else 0.0, 20, 1.0 if selling else 0.0,
            4.5 if selling else None, 5 if selling else 0, 0, 0.0, int(gmv * 0.95), 100, 0)


@pytest.fixture(scope="module")
def book():
    tables = good_tables(with_outcomes=False)
    rows = [_row(m, month, not (m == "M002" and month >= DEFAULT_MONTH))
            for m in ("M001", "M002", "M003", "M004") for month in MONTHS]
    tables["monthly_activity"] = pd.DataFrame(rows, columns=list(ACTIVITY_COLUMNS))
    tables["outcomes"] = pd.DataFrame({"merchant_id": ["M001", "M002", "M003", "M004", "M001", "M003"],
                                       "snapshot_month": ["2025-03"] * 4 + ["2026-01"] * 2,  # 2026-01: not known yet
                                       "defaulted_12m": [0, 1, 0, 0, 0, 0]})
    return validate_tables(tables, today=TODAY)


class SalesModel:
    """A stand-in model: selling in the last three months scores 700 (PD 1%), not selling 300 (PD 50%)."""

    def score(self, snapshot: pd.DataFrame) -> pd.DataFrame:
        selling = snapshot["gmv_3m_avg_krw"].fillna(0).to_numpy() > 0
        return pd.DataFrame({"pd": np.where(selling, 0.01, 0.5), "score": np.where(selling, 700, 300),
                             "grade": np.where(selling, 2, 9)}, index=snapshot.index)


def test_each_outcome_is_scored_as_of_its_own_month(book):
    frame = decision_frame(book, SalesModel())
    assert frame.attrs["scored_at"] == SCORED_AT_DECISION
    assert frame["snapshot_month"].tolist() == ["2025-03"] * 4  # the 2026-01 rows are not mature
    assert frame.index.tolist() == ["M001", "M002", "M003", "M004"]
    assert frame["defaulted_12m"].tolist() == [0, 1, 0, 0]
    # M002 still sold in March 2025: its score at decision is 700 (what `score --as-of 2025-03` gives)
    expected = SalesModel().score(current_snapshot(book, "2025-03"))
    assert frame["score"].tolist() == expected.loc[frame.index, "score"].tolist() == [700, 700, 700, 700]


def test_observed_bad_rate_of_approvals_is_aligned_in_time(book):
    policy = Policy(approve_cutoff=590, refer_cutoff=550)
    aligned = evaluate(decision_frame(book, SalesModel()), policy)
    # today's scores against the same outcomes: M002 already collapsed, scores 300, is declined, and
    # its default disappears from the approved bad rate
    today = current_snapshot(book)
    misaligned = evaluate(strategy_frame(today, SalesModel().score(today), book.merchants, book.outcomes,
                                         outcome_month="2025-03"), policy)
    assert aligned.observed_bad_rate == pytest.approx(1 / 4)
    assert misaligned.observed_bad_rate == pytest.approx(0.0)
