"""The watch-list on the hand-made book (hand_book.py): which loans, which triggers, which severity."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cb_core.loans import WATCHLIST_COLUMNS, watchlist
from tests.loans.hand_book import hand_book


def test_watchlist_at_the_last_month():
    w = watchlist(hand_book())
    assert list(w.columns) == list(WATCHLIST_COLUMNS)
    # B was charged off and C repaid: only A and D are open. D is 110 days past due (high) and its
    # refunds went from 1% to 10% of sales; A's last three months sold 900,000 against 3,000,000
    # the three months before (the book has no year-earlier months for A).
    assert w.to_dict("records") == [
        {"loan_id": "D", "merchant_id": "M004", "triggers": "past_due;refund_spike", "severity": "high",
         "months_since_booking": 12, "balance_krw": 3_000_000},
        {"loan_id": "A", "merchant_id": "M001", "triggers": "sales_drop", "severity": "low",
         "months_since_booking": 13, "balance_krw": 350_000},
    ]


def test_watchlist_earlier_month_and_unflagged_loans():
    # 2025-11: D is 20 days past due (two points: medium); A's sales are steady, so it is not flagged
    w = watchlist(hand_book(), as_of="2025-11")
    assert w[["loan_id", "triggers", "severity"]].to_dict("records") == [
        {"loan_id": "D", "triggers": "past_due", "severity": "medium"}]
    every = watchlist(hand_book(), as_of="2025-11", include_unflagged=True)
    assert every.set_index("loan_id")["severity"].to_dict() == {"D": "medium", "A": "none"}


class _GradeModel:
    """A stand-in model whose grade is the snapshot's column ``g``."""

    def score(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"pd": 0.1, "score": 600, "grade": X["g"].astype(int)}, index=X.index)


def test_grade_down_two_or_more_since_booking(monkeypatch):
    import cb_core.loans.early_warning as ew
    import cb_core.loans.scoring as scoring

    ids = pd.Index(["M001", "M002", "M003", "M004"], name="merchant_id")
    # the model grades everyone 4 now and 3 at their booking months; A was booked at grade 2, D at 5
    monkeypatch.setattr(ew, "snapshot", lambda merchants, activity, as_of, history: pd.DataFrame({"g": 4}, index=ids))
    monkeypatch.setattr(scoring, "snapshot", lambda merchants, activity, month, history: pd.DataFrame({"g": 3},
                                                                                                     index=ids))
    same = watchlist(hand_book(), _GradeModel(), as_of="2025-11", include_unflagged=True).set_index("loan_id")
    assert same["triggers"].to_dict() == {"D": "past_due", "A": ""}  # one grade down by the same model
    recorded = watchlist(hand_book(), _GradeModel(), as_of="2025-11", include_unflagged=True,
                         same_model_at_booking=False).set_index("loan_id")
    assert recorded.loc["A", "triggers"] == "grade_down" and recorded.loc["A", "severity"] == "low"  # 2 -> 4
    assert recorded.loc["D", "triggers"] == "past_due"


def test_lift_and_lead_time_by_hand():
    from cb_core.loans import watchlist_lift

    # 2025-12: D 50 days past due (high), A not flagged; 2026-01: D 80 days (high), A sales_drop (low).
    # D reaches 90+ in 2026-02, within 6 months of both; A never. Four observations, two bad.
    r = watchlist_lift(hand_book(), months=["2025-12", "2026-01"])
    assert r == {"observations": 4, "flagged_high": 2, "share_high_reaching_90": 1.0, "base_rate": 0.5,
                 "lift": 2.0, "median_lead_months": 2.0, "loans_warned": 1}


def test_daily_settlement_advance_behind_its_minimum():
    from dataclasses import replace

    from cb_core.data import LOAN_COLUMNS, LOAN_MONTH_COLUMNS

    # RBF-01: 6% fee, at least 11% of what is owed every 60 days (two months). 1,000,000 advanced,
    # 1,060,000 owed: 116,600 due over any two months.
    book = hand_book()
    loan = pd.DataFrame([("E", "M003", "FlowPay", "RBF-01", "2025-10", 1_000_000, 30.0, 18,
                          "daily_settlement_pct", 650, 4, 0.05, "settings")], columns=list(LOAN_COLUMNS))
    paid = {"2025-10": 0, "2025-11": 120_000, "2025-12": 20_000, "2026-01": 30_000, "2026-02": 50_000}
    balance, rows = 1_060_000, []
    for month, amount in paid.items():
        balance -= amount
        rows.append(("E", month, balance, amount, 0, "current"))
    book = replace(book, loans=pd.concat([book.loans, loan], ignore_index=True),
                   loan_months=pd.concat([book.loan_months, pd.DataFrame(rows, columns=list(LOAN_MONTH_COLUMNS))],
                                         ignore_index=True))
    # 2025-12: 140,000 over the last two months; 2026-02: 80,000
    assert "E" not in watchlist(book, as_of="2025-12")["loan_id"].tolist()
    flagged = watchlist(book).set_index("loan_id")
    assert flagged.loc["E", "triggers"] == "behind_minimum" and flagged.loc["E", "severity"] == "low"
    assert flagged.loc["E", "balance_krw"] == 840_000


def test_as_of_is_checked():
    import pytest

    from cb_core.errors import ConfigError

    with pytest.raises(ConfigError, match="as_of must be a month YYYY-MM; got '2026-13'"):
        watchlist(hand_book(), as_of="2026-13")
    with pytest.raises(ConfigError, match=r"as_of 2026-03 is after the last month of loan_months \(2026-02\)"):
        watchlist(hand_book(), as_of="2026-03")


def test_booked_merchants_snapshot_alone_equals_the_whole_books(small_book, trained):
    """The loans' re-scores read only their merchants' rows: the same as a whole-book snapshot."""
    from cb_core.features import snapshot
    from cb_core.loans import pd_at_booking, scores_at_booking

    model = trained[0]
    loans = small_book.loans.groupby("booked_month").head(3)
    got = scores_at_booking(small_book, model, loans["loan_id"])
    assert len(got) == len(loans) and got["pd"].notna().all()
    for month, group in loans.groupby("booked_month"):
        snap = snapshot(small_book.merchants, small_book.activity, month, small_book.bureau_history)
        want = model.score(snap.loc[group["merchant_id"]])
        np.testing.assert_array_equal(got.loc[group["loan_id"], "pd"].to_numpy(), want["pd"].to_numpy())
        np.testing.assert_array_equal(got.loc[group["loan_id"], "grade"].to_numpy(), want["grade"].to_numpy())
    every = pd_at_booking(small_book, model)
    np.testing.assert_array_equal(every.loc[loans["loan_id"]].to_numpy(), got["pd"].to_numpy())
