"""Observed rates from score at decision: each outcome row scored as of its own snapshot month, on a
hand-built four-merchant book where today's score already reflects a past default."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cb_core.data import ACTIVITY_COLUMNS, validate_tables
from cb_core.features import current_snapshot
from cb_core.strategy import (OBSERVED_AT, SCORED_AT_DECISION, CutoffCurves, Policy, aligned_result,
                              aligned_segment_rates, aligned_swap_sets, bureau_only_scores, decision_frame, evaluate,
                              strategy_frame, with_observed)
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


# ------------------------------------------------------------------ the views the pages show, aligned

def _frames(book):
    today = current_snapshot(book)
    return (strategy_frame(today, SalesModel().score(today), book.merchants),  # today's PD, no outcome
            decision_frame(book, SalesModel()))


def test_cutoff_result_takes_expected_from_today_and_observed_from_decision(book):
    today, seen = _frames(book)
    policy = Policy(approve_cutoff=590, refer_cutoff=550)
    result = aligned_result(CutoffCurves.precompute(today), CutoffCurves.precompute(seen), policy)
    # today: M001, M003, M004 sell (700, PD 1%), M002 does not (300): 3 of 4 approved, expected 1%
    assert (result.n_approved, result.expected_bad_rate) == (3, pytest.approx(0.01))
    # at decision all four sold in 2025-03 and were approved; M002 went bad: 1 of 4
    assert (result.n_approved_with_outcome, result.observed_bads) == (4, 1)
    assert result.observed_bad_rate == pytest.approx(1 / 4)
    without = aligned_result(CutoffCurves.precompute(today), None, policy)
    assert without.n_approved_with_outcome == 0 and np.isnan(without.observed_bad_rate)


def test_swap_sets_and_segments_show_observed_rates_at_decision(book):
    today, seen = _frames(book)
    policy = Policy(approve_cutoff=590, refer_cutoff=550)
    swaps = aligned_swap_sets(today, seen, policy)
    # the bureau cutoff is chosen on today's book; at decision our policy approved all four, with 1 bad
    row = swaps.summary.loc["approved_ours"]
    assert (row["n"], row["n_with_outcome"]) == (3, 4) and row["observed_bad_rate"] == pytest.approx(1 / 4)
    assert swaps.summary.attrs["observed"] == OBSERVED_AT
    rates = aligned_segment_rates(today, seen, policy, by="region").set_index("region")
    for region, group in seen.groupby("region"):
        assert rates.loc[region, "observed_bad_rate"] == pytest.approx(group["defaulted_12m"].mean())
    assert rates["n"].sum() == 4 and rates["n_approved"].sum() == 3  # counts and approvals are today's


def test_with_observed_leaves_segments_without_outcomes_blank():
    today = pd.DataFrame({"region": ["A", "B"], "n": [5, 7], "observed_bad_rate": [0.9, 0.9]})
    seen = pd.DataFrame({"region": ["A"], "n": [3], "observed_bad_rate": [0.2]})
    out = with_observed(today, seen, on="region")
    assert out["observed_bad_rate"].tolist()[0] == pytest.approx(0.2) and np.isnan(out["observed_bad_rate"][1])
    assert out["n"].tolist() == [5, 7]


def test_bureau_only_mapping_is_fitted_on_the_bureau_scores_at_decision():
    rng = np.random.default_rng(0)
    n = 400
    bureau_then = rng.uniform(500, 900, n)
    bad = rng.random(n) < 1 / (1 + np.exp((bureau_then - 650) / 40))
    common = {"pd": 0.05, "exposure_krw": 1.0, "thin_file": 0}
    seen = pd.DataFrame({"score": 600, "bureau_score": bureau_then, "defaulted_12m": bad.astype(float), **common})
    # today the bad merchants' bureau scores have collapsed: fitting on today's scores would see it
    today = seen.assign(bureau_score=np.where(bad, 400.0, bureau_then), defaulted_12m=np.nan)
    from cb_core.model import fit_platt

    a, b = fit_platt((bureau_then - 750.0) / 100.0, bad.astype(float))
    fitted = bureau_only_scores(today, fit_on=seen)
    assert fitted.attrs["method"] == "logistic"
    assert fitted.attrs["coefficients"] == pytest.approx({"a": a, "b": b})
    # without outcomes in today's frame and no fit_on, there is nothing to fit: the linear mapping
    assert bureau_only_scores(today).attrs["method"] == "linear"


def test_without_a_decision_frame_the_views_are_todays_alone(book):
    from cb_core.strategy import aligned_segment_table, segment_rates, segment_table, swap_sets

    today, _ = _frames(book)
    policy = Policy(approve_cutoff=590, refer_cutoff=550)
    assert aligned_swap_sets(today, None, policy).summary.equals(swap_sets(today, policy).summary)
    assert aligned_segment_rates(today, None, policy, "region").equals(segment_rates(today, policy, by="region"))
    table = aligned_segment_table(today, None, policy, "region", n_boot=20)
    assert table.equals(segment_table(today, policy, by="region", n_boot=20))
    assert table["observed_bad_rate"].isna().all()  # today's frame has no outcome: nothing observed
