"""Score PSI by month since training: hand-computed cases, the card-decile reference, bad input, and
the book-level function against an independent re-scoring of one month."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cb_core.errors import ConfigError
from cb_core.loans import STABILITY_COLUMNS, psi_by_month, score_psi_by_month, training_end


def test_psi_by_month_against_training_scores_by_hand():
    reference = [1.0] * 50 + [2.0] * 50  # half at 1, half at 2
    scores = pd.DataFrame({"month": ["2025-06", "2025-05", "2025-05", "2025-05", "2025-05", "2025-06"],
                           "score": [2.0, 1.0, 1.0, 1.0, 2.0, 1.0]})
    out = psi_by_month(scores, reference, trained_through="2025-04")
    assert list(out.columns) == list(STABILITY_COLUMNS)
    assert out["month"].tolist() == ["2025-05", "2025-06"]  # oldest first
    assert out["months_since_training"].tolist() == [1, 2]
    assert out["merchants"].tolist() == [4, 2]
    # 2025-05: shares 3/4 and 1/4 against 1/2 and 1/2
    by_hand = (0.75 - 0.5) * math.log(0.75 / 0.5) + (0.25 - 0.5) * math.log(0.25 / 0.5)
    assert out["psi"].iloc[0] == pytest.approx(by_hand, abs=1e-12)
    assert by_hand == pytest.approx(0.2746530722, abs=1e-9)
    assert out["band"].tolist() == ["shift", "stable"]  # 0.27 >= 0.25; the same shares give 0
    assert out["psi"].iloc[1] == pytest.approx(0.0, abs=1e-12)


def test_psi_by_month_against_the_card_deciles_by_hand():
    deciles = {f"p{q}": float(q) for q in range(0, 101, 10)}  # training scores spread evenly over 0–100
    scores = pd.DataFrame({"month": ["2025-08"] * 10 + ["2025-09"] * 10,
                           "score": [5, 15, 25, 35, 45, 55, 65, 75, 85, 95] + [5] * 10})
    out = psi_by_month(scores, deciles, trained_through="2025-06")
    assert out["months_since_training"].tolist() == [2, 3]
    assert out["psi"].iloc[0] == pytest.approx(0.0, abs=1e-12)  # one score in each decile
    # all ten in the first decile: 1.0 against 0.1 there, 0 (floored at 0.0001) against 0.1 in nine others
    by_hand = (1 - 0.1) * math.log(1 / 0.1) + 9 * (0.0001 - 0.1) * math.log(0.0001 / 0.1)
    assert out["psi"].iloc[1] == pytest.approx(by_hand, abs=1e-9)
    assert out["band"].iloc[1] == "shift"


def test_repeated_deciles_merge_their_shares():
    # p10 = p20 = 10: the bin up to 10 holds 20% of the training rows
    deciles = {"p0": 0, "p10": 10, "p20": 10, **{f"p{q}": float(q) for q in range(30, 101, 10)}}
    scores = pd.DataFrame({"month": ["2025-05"] * 10, "score": [1, 2, 25, 35, 45, 55, 65, 75, 85, 95]})
    assert psi_by_month(scores, deciles, trained_through="2025-04")["psi"].iloc[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("card,message", [
    ({}, "no training window months"),
    ({"validation": {"train": {"periods": []}}}, "no training window months"),
    ({"validation": {"train": {"periods": ["April"]}}}, "not YYYY-MM"),
])
def test_training_end_says_what_the_card_lacks(card, message):
    with pytest.raises(ConfigError, match=message):
        training_end(card)


def test_training_end_is_the_last_training_month():
    assert training_end({"validation": {"train": {"periods": ["2024-11", "2025-02", "2024-12"]}}}) == "2025-02"


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match="score"):
        psi_by_month(pd.DataFrame({"month": ["2025-05"]}), [1.0], trained_through="2025-04")
    with pytest.raises(ConfigError, match="reference .* empty"):
        psi_by_month(pd.DataFrame({"month": ["2025-05"], "score": [1.0]}), [], trained_through="2025-04")
    with pytest.raises(ConfigError, match="p0 to p100"):
        psi_by_month(pd.DataFrame({"month": ["2025-05"], "score": [1.0]}), {"p10": 1.0, "p50": 2.0},
                     trained_through="2025-04")


def test_score_psi_by_month_on_the_small_book(small_book, trained):
    from cb_core.features import current_snapshot
    from cb_core.model import metrics

    model, report = trained
    out = score_psi_by_month(small_book, model, report.training_scores)
    end = training_end(model.card)
    first = pd.Period(end, "M") + 1
    expected_months = [str(p) for p in pd.period_range(first, small_book.last_month, freq="M")]
    assert out["month"].tolist() == expected_months
    assert out["months_since_training"].tolist() == list(range(1, len(expected_months) + 1))
    # one month re-scored independently: every merchant with activity up to it, against the training scores
    month = expected_months[len(expected_months) // 2]
    snap = current_snapshot(small_book, as_of=month)
    row = out.set_index("month").loc[month]
    assert row["merchants"] == len(snap)
    assert row["psi"] == pytest.approx(metrics.psi(report.training_scores, model.score(snap)["score"]), abs=1e-12)
    # the latest three months only, and the card's deciles when no training scores are given
    last3 = score_psi_by_month(small_book, model, report.training_scores, max_months=3)
    pd.testing.assert_frame_equal(last3, out.tail(3).reset_index(drop=True))
    by_card = score_psi_by_month(small_book, model, None, max_months=1)
    assert np.isfinite(by_card["psi"]).all() and by_card["month"].tolist() == [small_book.last_month]
    with pytest.raises(ConfigError, match="max_months"):
        score_psi_by_month(small_book, model, None, max_months=0)
    with pytest.raises(ConfigError, match="max_merchants"):
        score_psi_by_month(small_book, model, None, max_merchants=True)


def test_a_large_book_is_scored_on_a_fixed_sample(small_book, trained):
    from cb_core.features import snapshot
    from cb_core.model import metrics

    model, report = trained
    out = score_psi_by_month(small_book, model, report.training_scores, max_months=1, max_merchants=300)
    ids = small_book.merchants["merchant_id"].sample(300, random_state=0)
    keep = small_book.activity["merchant_id"].isin(ids)
    snap = snapshot(small_book.merchants[small_book.merchants["merchant_id"].isin(ids)], small_book.activity[keep],
                    small_book.last_month, small_book.bureau_history)
    assert out["merchants"].tolist() == [len(snap)] and len(snap) <= 300
    assert out["psi"].iloc[0] == pytest.approx(metrics.psi(report.training_scores, model.score(snap)["score"]),
                                               abs=1e-12)
