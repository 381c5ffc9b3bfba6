"""TuningBook: every Cutoff tuning figure of a draft from arrays prepared once, checked by hand on the
eight-merchant book of test_strategy and against the reference functions (swap_sets, thin_file_uplift,
rescue_view, segment_rates, compare_policies, aligned_*) on random books, many cutoffs, overrides and
positive-only included."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cb_core.errors import ConfigError, PolicyError
from cb_core.strategy import (
    CutoffCurves, Policy, TuningBook, aligned_rescue_summary, aligned_result, aligned_segment_rates,
    aligned_swap_sets, bureau_only_scores, compare_policies, rescue_view, swap_sets, thin_file_uplift,
)
from tests.strategy.test_strategy import BUREAU_POINTS, PLATFORM_POINTS, POLICY, hand_frame, random_frame


def _same(got, want) -> None:
    """Two result dataclasses equal field by field (NaN equals NaN)."""
    from dataclasses import asdict
    assert asdict(got) == pytest.approx(asdict(want), rel=1e-12, nan_ok=True)


def _frames_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same rows, columns and dtypes; counts exactly, rates to 1e-12 (sums in another order)."""
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-15)


@pytest.fixture
def hand_book() -> TuningBook:
    return TuningBook.precompute(hand_frame(), bureau_today=BUREAU_POINTS, platform_today=PLATFORM_POINTS)


def test_figures_by_hand(hand_book):
    # swap sets at equal approval: bureau cutoff 640 (m1 820, m6 760, m4 700, m3 640 = 4 approvals)
    swaps = hand_book.swap_sets(POLICY)
    assert (swaps.bureau_cutoff, swaps.match) == (640.0, "approval")
    assert swaps.matrix.to_numpy().tolist() == [[3, 1], [1, 3]]
    assert swaps.summary["n"].to_dict() == {"both_approve": 3, "swap_in": 1, "swap_out": 1, "both_decline": 3,
                                            "approved_ours": 4, "approved_bureau": 4}
    assert swaps.summary.loc["both_approve", "expected_bad_rate"] == pytest.approx(0.03)     # m1 m3 m4
    assert swaps.summary.loc["both_approve", "observed_bad_rate"] == pytest.approx(0.5)      # m1 0, m4 1
    assert hand_book.swap_sets(POLICY, "bad_rate").bureau_cutoff == 820.0
    # uplift: thin files m2 m5 m8, we approve m2 only
    u = hand_book.uplift(POLICY)
    assert (u.n_thin_file, u.thin_file_approval_rate, u.n_upgraded, u.n_turned_to_decline) == (3, 1 / 3, 3, 1)
    # rescue: positive-only 700 650 620 600 580 630 560 500; stage 2 rescues m7 (605)
    r = hand_book.rescue(POLICY)
    assert r["n"].to_dict() == {"approved_bureau_only": 3, "approved_ours": 4, "approved_positive_only": 5,
                                "lifted_by_platform": 2, "protected_by_floor": 1, "stage1_declined": 2,
                                "stage2_rescued": 1, "approved_two_stage": 5}
    assert r.loc["stage2_rescued", ["expected_bad_rate", "observed_bad_rate"]].tolist() == pytest.approx([0.15, 0.0])
    # segments: thin files approve 1 of 3 (m2), others 3 of 5
    seg = hand_book.segment_rates(POLICY, "thin_file").set_index("thin_file")
    assert seg["n_approved"].tolist() == [3, 1] and seg["approval_rate"].tolist() == pytest.approx([0.6, 1 / 3])
    # the positive-only promise holds by construction: nothing to report
    assert hand_book.positive_only_violations.empty


def test_comparison_by_hand(hand_book):
    draft = Policy(approve_cutoff=650, refer_cutoff=590, lgd=0.5)
    c = hand_book.comparison(draft, POLICY)
    # m3 620 m4 600 approve -> refer; m5 580 m6 560 refer -> decline; m1 m2 stay approve, m7 m8 decline
    assert c.n_changed == 4
    assert c.matrix.to_numpy().tolist() == [[2, 2, 0], [0, 0, 2], [0, 0, 2]]
    assert c.changes.to_dict("list") == {"merchant_id": ["m3", "m4", "m5", "m6"], "score": [620.0, 600.0, 580.0, 560.0],
                                         "old": ["approve", "approve", "refer", "refer"],
                                         "new": ["refer", "refer", "decline", "decline"]}
    assert hand_book.comparison(draft, POLICY, limit=1).changes["merchant_id"].tolist() == ["m3"]
    assert hand_book.comparison(POLICY, POLICY).n_changed == 0


def test_result_is_the_curves_and_follows_every_cutoff(hand_book):
    assert math.isnan(hand_book.result(POLICY).observed_bad_rate)  # no score-at-decision frame: nothing observed
    r = TuningBook.precompute(hand_frame(), hand_frame()).result(POLICY)
    assert (r.n_approved, r.expected_bad_rate, r.observed_bad_rate) == (4, pytest.approx(0.0275), pytest.approx(1 / 3))
    assert hand_book.result(Policy(approve_cutoff=690, refer_cutoff=550)).n_approved == 1
    table = hand_book.table(POLICY, step=1).set_index("approve_cutoff")
    assert table.loc[600.0, "n_approved"] == 4 and table.loc[601.0, "n_approved"] == 3


@pytest.mark.parametrize("seed", [1, 2])
def test_every_figure_equals_the_reference_functions(seed):
    today = random_frame(3000, seed=seed)
    seen = random_frame(2500, seed=seed + 10)
    bureau_today, bureau_seen = bureau_only_scores(today, fit_on=seen), bureau_only_scores(seen, fit_on=seen)
    platform = pd.Series(np.clip(today["score"].to_numpy() + np.random.default_rng(seed).normal(0, 40, 3000), 1, 1000),
                         index=today.index)
    book = TuningBook.precompute(today, seen, bureau_today=bureau_today, bureau_at_decision=bureau_seen,
                                 platform_today=platform, curves=CutoffCurves.precompute(today),
                                 seen_curves=CutoffCurves.precompute(seen))
    today_curves, seen_curves = CutoffCurves.precompute(today), CutoffCurves.precompute(seen)
    published = Policy(approve_cutoff=600, refer_cutoff=560)
    drafts = [Policy(approve_cutoff=a, refer_cutoff=min(r, a), lgd=0.45, apr=0.07)
              for a, r in ((450, 430), (575, 550), (600, 560), (633, 600), (700, 520), (950, 900))]
    drafts.append(Policy(approve_cutoff=610, refer_cutoff=570, segment_cutoffs={"thin_file": {1: 640},
                                                                               "category": {"food": 580}}))
    for draft in drafts:
        if not draft.segment_cutoffs:
            want = aligned_result(today_curves, seen_curves, draft)
        else:  # overrides: curves of their own, precomputed on first use
            want = aligned_result(CutoffCurves.precompute(today, draft), CutoffCurves.precompute(seen, draft), draft)
        assert book.result(draft).to_dict() == pytest.approx(want.to_dict(), rel=1e-12, nan_ok=True)
        for match in ("approval", "bad_rate"):
            got, want = book.swap_sets(draft, match), aligned_swap_sets(today, seen, draft, match)
            assert got.bureau_cutoff == want.bureau_cutoff and got.match == want.match
            _frames_equal(got.summary, want.summary)
            pd.testing.assert_frame_equal(got.matrix, want.matrix)
        _same(book.uplift(draft), thin_file_uplift(today, draft, bureau_today))
        _frames_equal(book.rescue(draft), aligned_rescue_summary(today, seen, draft, bureau_today, bureau_seen,
                                                                  platform).summary)
        for by in ("thin_file", "tenure_lt_12m", "category"):
            _frames_equal(book.segment_rates(draft, by), aligned_segment_rates(today, seen, draft, by))
        want = compare_policies(today, draft, published)
        got = book.comparison(draft, published, limit=10_000)
        pd.testing.assert_frame_equal(got.matrix, want.matrix)
        assert got.n_changed == len(want.changes)
        assert got.changes.to_dict("list") == want.changes.assign(
            old=want.changes["old"].astype(str), new=want.changes["new"].astype(str)).to_dict("list")


def test_positive_only_drafts_equal_the_reference():
    today = random_frame(2000, seed=4)
    today["bureau_only_score"] = bureau_only_scores(today)
    book = TuningBook.precompute(today, bureau_today=today["bureau_only_score"])
    draft = Policy(approve_cutoff=620, refer_cutoff=580, positive_only=True)
    _same(book.uplift(draft), thin_file_uplift(today, draft, today["bureau_only_score"]))
    _frames_equal(book.segment_rates(draft, "category"), aligned_segment_rates(today, None, draft, "category"))
    _frames_equal(book.swap_sets(draft).summary, swap_sets(today, draft).summary)
    # the rescue view ignores the flag, as rescue_view does
    _frames_equal(book.rescue(draft), rescue_view(today, draft, today["bureau_only_score"]).summary)
    r = book.result(draft)
    assert r.n_approved == int((np.fmax(today["score"], today["bureau_only_score"].fillna(0)) >= 620).sum())


def test_without_outcomes_nothing_observed_and_bad_input_named():
    today = random_frame(500, seed=6).drop(columns="defaulted_12m")
    book = TuningBook.precompute(today, None)
    assert book.seen is None and math.isnan(book.result(POLICY).observed_bad_rate)
    assert book.result(POLICY).n_approved_with_outcome == 0
    assert book.swap_sets(POLICY).summary["n_with_outcome"].eq(0).all()
    with pytest.raises(ConfigError, match="needs the bureau-only score"):
        book.uplift(POLICY)
    with pytest.raises(ConfigError, match="needs the bureau-only score"):
        book.rescue(POLICY)
    assert book.positive_only_violations is None
    with pytest.raises(ConfigError, match="match must be 'approval' or 'bad_rate'; got 'volume'"):
        book.swap_sets(POLICY, "volume")
    with pytest.raises(ConfigError, match="strategy frame is missing column"):
        TuningBook.precompute(today.drop(columns="pd"))
    with pytest.raises(ConfigError, match="one value per merchant"):
        TuningBook.precompute(today, bureau_today=np.zeros(3))
    with pytest.raises(PolicyError, match="segment"):
        book.result(Policy(segment_cutoffs={"no_such_column": {1: 600}}))
    no_bureau = TuningBook.precompute(today.drop(columns="bureau_score"))
    with pytest.raises(ConfigError, match="needs a bureau_score column"):
        no_bureau.swap_sets(POLICY)


class RecordingModel:
    """Scores from every numeric feature (so any feature that differs moves the score) and keeps the
    snapshots it was given."""

    def __init__(self) -> None:
        self.seen: list[pd.DataFrame] = []

    def score(self, snap: pd.DataFrame) -> pd.DataFrame:
        self.seen.append(snap)
        numeric = snap.select_dtypes("number").fillna(0.0)
        z = (numeric.rank(pct=True).mean(axis=1) - 0.5) * 6
        pd_ = 1 / (1 + np.exp(-z.to_numpy() + 3))
        return pd.DataFrame({"pd": pd_, "score": np.clip(np.round(600 - 60 * z.to_numpy()), 1, 1000),
                             "grade": 5}, index=snap.index)


def test_decision_frame_from_each_months_merchants_equals_whole_book_snapshots(small_book):
    from cb_core.features import current_snapshot
    from cb_core.strategy import decision_frame

    model = RecordingModel()
    frame = decision_frame(small_book, model)
    assert len(frame) > 1000 and frame["snapshot_month"].nunique() >= 2
    months = sorted(set(frame["snapshot_month"]))
    assert len(model.seen) == len(months)
    for month, snap in zip(months, model.seen):  # the whole book's snapshot, restricted to that month's merchants
        pd.testing.assert_frame_equal(snap, current_snapshot(small_book, month).loc[snap.index])
    # and the frame is the one the per-month whole-book snapshots give
    parts = []
    for month, rows in small_book.outcomes.groupby(small_book.outcomes["snapshot_month"].astype(str)):
        if month not in set(frame["snapshot_month"]):
            continue
        whole = current_snapshot(small_book, month)
        ids = whole.index[whole.index.isin(rows["merchant_id"].astype(str))]
        from cb_core.strategy import strategy_frame
        part = strategy_frame(whole, RecordingModel().score(whole.loc[ids]), small_book.merchants, rows,
                              outcome_month=month)
        part.insert(0, "snapshot_month", month)
        parts.append(part)
    pd.testing.assert_frame_equal(frame, pd.concat(parts), check_like=False)
