"""Cutoff analytics: every rate against a hand-computed eight-merchant book.

The hand book (``hand``), under ``POLICY`` (approve >= 600, refer >= 550, LGD 0.5, APR 6%,
fee 1%, funding 3%, 12 months):

    id  score  pd    exposure  bureau  thin  category  region  tenure  outcome  decision
    m1  700    0.01  10M       820     0     food      서울     30      0        approve
    m2  650    0.02   5M       -       1     fashion   서울      8      0        approve
    m3  620    0.03   8M       640     0     food      부산     24      -        approve
    m4  600    0.05   4M       700     0     fashion   부산     10      1        approve
    m5  580    0.08   6M       -       1     food      서울      5      -        refer
    m6  560    0.10   2M       760     0     digital   부산     40      1        refer
    m7  540    0.15   3M       600     0     digital   서울     14      0        decline
    m8  500    0.25   1M       -       1     fashion   서울      3      -        decline
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from cb_core.config import get_settings
from cb_core.errors import ConfigError, PolicyError
from cb_core.strategy import (
    CutoffCurves, Policy, bureau_only_scores, check_monotone, check_positive_only, compare_policies, decisions,
    default_exposure, evaluate, policy_grades, rescue_view, segment_table, strategy_frame, swap_sets,
    thin_file_uplift,
)

IDS = [f"m{i}" for i in range(1, 9)]
POLICY = Policy(approve_cutoff=600, refer_cutoff=550, lgd=0.5, apr=0.06, broker_fee_pct=1.0, funding_rate=0.03,
                term_months=12)
# bureau-only scores on our points scale (thin file: none) and platform-only scores (stage 2)
BUREAU_POINTS = pd.Series([690, np.nan, 610, 590, np.nan, 630, 560, np.nan], index=pd.Index(IDS, name="merchant_id"))
PLATFORM_POINTS = pd.Series([680, 640, 500, 610, 610, 590, 605, 450], index=pd.Index(IDS, name="merchant_id"))


def hand_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "score": [700, 650, 620, 600, 580, 560, 540, 500],
        "pd": [0.01, 0.02, 0.03, 0.05, 0.08, 0.10, 0.15, 0.25],
        "exposure_krw": [10e6, 5e6, 8e6, 4e6, 6e6, 2e6, 3e6, 1e6],
        "bureau_score": [820, np.nan, 640, 700, np.nan, 760, 600, np.nan],
        "thin_file": [0, 1, 0, 0, 1, 0, 0, 1],
        "category": ["food", "fashion", "food", "fashion", "food", "digital", "digital", "fashion"],
        "region": ["서울", "서울", "부산", "부산", "서울", "부산", "서울", "서울"],
        "tenure_months": [30, 8, 24, 10, 5, 40, 14, 3],
        "defaulted_12m": [0, 0, np.nan, 1, np.nan, 1, 0, np.nan],
    }, index=pd.Index(IDS, name="merchant_id"))


@pytest.fixture
def hand() -> pd.DataFrame:
    return hand_frame()


def random_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    logit = rng.normal(-3.2, 1.0, n)
    thin = rng.random(n) < 0.3
    return pd.DataFrame({
        "score": np.clip(np.round(374.25 - 57.71 * logit), 1, 1000).astype(int), "pd": expit(logit),
        "exposure_krw": np.floor(rng.lognormal(15.5, 1.0, n) / 1e5) * 1e5,
        "bureau_score": np.where(thin, np.nan, np.round(750 - 70 * (logit + 3.2) + rng.normal(0, 60, n))),
        "thin_file": thin.astype(int), "category": rng.choice(["food", "fashion", "digital"], n),
        "tenure_months": rng.integers(0, 60, n),
        "defaulted_12m": np.where(rng.random(n) < 0.7, (rng.random(n) < expit(logit)).astype(float), np.nan),
    }, index=pd.Index([f"r{i:05d}" for i in range(n)], name="merchant_id"))


# ------------------------------------------------------------------ evaluate and decisions

def test_decisions_by_hand(hand):
    assert decisions(hand, POLICY).tolist() == ["approve"] * 4 + ["refer"] * 2 + ["decline"] * 2


def test_evaluate_every_rate_by_hand(hand):
    r = evaluate(hand, POLICY)
    assert (r.n_merchants, r.n_approved, r.n_referred, r.n_declined) == (8, 4, 2, 2)
    assert (r.approval_rate, r.refer_rate, r.decline_rate) == (0.5, 0.25, 0.25)
    assert r.expected_bads == pytest.approx(0.11)                          # 0.01 + 0.02 + 0.03 + 0.05
    assert r.expected_bad_rate == pytest.approx(0.0275)                    # 0.11 / 4
    assert (r.n_approved_with_outcome, r.observed_bads) == (3, 1)          # m1 0, m2 0, m4 1; m3 unknown
    assert r.observed_bad_rate == pytest.approx(1 / 3)
    assert r.approved_volume_krw == 27_000_000
    assert r.expected_loss_krw == pytest.approx(320_000)                   # 0.5 * (100k + 100k + 240k + 200k)
    assert r.interest_revenue_krw == pytest.approx(1_620_000)              # 27M * 6% * 12/12
    assert r.funding_cost_krw == pytest.approx(810_000)                    # 27M * 3%
    assert r.broker_fee_revenue_krw == pytest.approx(270_000)              # 27M * 1%
    assert r.profit_krw == pytest.approx(490_000)                          # 1.62M - 320k - 810k


def test_term_and_per_merchant_apr_and_fee(hand):
    six_months = evaluate(hand, Policy(**{**POLICY.to_dict(), "term_months": 6}))
    assert six_months.interest_revenue_krw == pytest.approx(810_000)
    assert six_months.funding_cost_krw == pytest.approx(405_000)
    assert six_months.profit_krw == pytest.approx(810_000 - 320_000 - 405_000)
    priced = hand.assign(apr=[0.05, 0.08, 0.06, 0.09, 0.1, 0.1, 0.1, 0.1], broker_fee_pct=[1, 2, 1, 0.5, 0, 0, 0, 0])
    r = evaluate(priced, POLICY)
    assert r.interest_revenue_krw == pytest.approx(500_000 + 400_000 + 480_000 + 360_000)
    assert r.broker_fee_revenue_krw == pytest.approx(100_000 + 100_000 + 80_000 + 20_000)
    in_percent = priced.drop(columns="apr").assign(apr_pct=[5, 8, 6, 9, 10, 10, 10, 10])
    assert evaluate(in_percent, POLICY).interest_revenue_krw == pytest.approx(r.interest_revenue_krw)
    with pytest.raises(ConfigError, match="both apr \\(a fraction\\) and apr_pct \\(percent\\)"):
        evaluate(in_percent.assign(apr=0.05), POLICY)


def test_empty_approval_gives_nan_bad_rates(hand):
    r = evaluate(hand, Policy(approve_cutoff=900, refer_cutoff=800))
    assert (r.n_approved, r.n_referred, r.n_declined, r.approval_rate) == (0, 0, 8, 0.0)
    assert math.isnan(r.expected_bad_rate) and math.isnan(r.observed_bad_rate)
    assert r.expected_loss_krw == 0 and r.profit_krw == 0


def test_segment_cutoffs_take_the_strictest_override(hand):
    thin = Policy(approve_cutoff=600, refer_cutoff=550, segment_cutoffs={"thin_file": {1: 570}})
    assert decisions(hand, thin).tolist() == ["approve"] * 5 + ["refer", "decline", "decline"]
    both = Policy(approve_cutoff=600, refer_cutoff=550,
                  segment_cutoffs={"thin_file": {1: 570}, "category": {"food": 650}})
    # m3 food 620 < 650 -> refer; m5 thin and food: max(570, 650) -> refer
    assert decisions(hand, both).tolist() == ["approve", "approve", "refer", "approve", "refer", "refer",
                                              "decline", "decline"]
    young = Policy(approve_cutoff=600, refer_cutoff=550, segment_cutoffs={"tenure_lt_12m": {1: 640}})
    assert decisions(hand, young).tolist()[:5] == ["approve", "approve", "approve", "refer", "refer"]
    with pytest.raises(PolicyError, match="cutoff for segment region='서울', but segment 'region' is not a frame"):
        decisions(hand.drop(columns="region"), Policy(segment_cutoffs={"region": {"서울": 600}}))


def test_positive_only_policy_option(hand):
    floored = hand.assign(bureau_only_score=BUREAU_POINTS)
    policy = Policy(**{**POLICY.to_dict(), "positive_only": True})
    # m6: max(560, 630) = 630 -> approve
    assert decisions(floored, policy).tolist() == ["approve"] * 4 + ["refer", "approve", "refer", "decline"]
    assert policy_grades(floored, policy).tolist() == [1, 3, 4, 5, 6, 4, 7, 9]
    assert evaluate(floored, policy).n_approved == 5
    with pytest.raises(PolicyError, match="positive-only option needs a bureau_only_score column"):
        evaluate(hand, policy)


def test_compare_policies_by_hand(hand):
    draft = Policy(approve_cutoff=580, refer_cutoff=540)
    cmp = compare_policies(hand, draft, POLICY)
    assert cmp.changes.to_dict("records") == [
        {"merchant_id": "m5", "score": 580, "old": "refer", "new": "approve"},
        {"merchant_id": "m7", "score": 540, "old": "decline", "new": "refer"},
    ]
    assert cmp.matrix.to_numpy().tolist() == [[4, 0, 0], [1, 1, 0], [0, 1, 1]]
    assert list(cmp.matrix.index) == list(cmp.matrix.columns) == ["approve", "refer", "decline"]


# ------------------------------------------------------------------ policy validation and storage

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"approve_cutoff": 1200}, "approve_cutoff must be within 1–1000; got 1200"),
    ({"approve_cutoff": 0.5, "refer_cutoff": 0.5}, "approve_cutoff must be within 1–1000; got 0.5"),
    ({"refer_cutoff": 0}, "refer_cutoff must be within 1–1000; got 0"),
    ({"approve_cutoff": 600, "refer_cutoff": 620},
     "refer_cutoff must not be above approve_cutoff; got refer_cutoff 620 > approve_cutoff 600"),
    ({"approve_cutoff": "600"}, "approve_cutoff must be a finite number; got '600'"),
    ({"approve_cutoff": float("nan")}, "approve_cutoff must be a finite number; got nan"),
    ({"segment_cutoffs": {"category": {"food": 1500}}}, "segment cutoff for category='food' must be within 1–1000; got 1500"),
    ({"segment_cutoffs": [("thin_file", 1, 600), ("thin_file", 1, 610)]}, "segment cutoff for thin_file=1 is given twice"),
    ({"segment_cutoffs": {"thin_file": 600}}, r"segment_cutoffs\['thin_file'\] must map segment values to cutoffs"),
    ({"lgd": 1.5}, "lgd must be within 0–1; got 1.5"),
    ({"apr": 5.7}, r"apr must be within 0–1 \(a yearly fraction, 0.057 for 5.7%\); got 5.7"),
    ({"broker_fee_pct": 150}, r"broker_fee_pct must be within 0–100 \(percent of the limit\); got 150"),
    ({"funding_rate": -0.01}, "funding_rate must be within 0–1"),
    ({"term_months": 0}, "term_months must be a whole number within 1–120; got 0"),
    ({"term_months": 6.5}, "term_months must be a whole number within 1–120; got 6.5"),
    ({"grade_boundaries": (600, 700)}, "grade boundaries must be 9 scores; got 2"),
    ({"positive_only": "yes"}, "positive_only must be true or false; got 'yes'"),
])
def test_policy_validation_messages(kwargs, message):
    with pytest.raises(PolicyError, match=message):
        Policy(**kwargs)


def test_policy_round_trips_through_json():
    policy = Policy(approve_cutoff=610.5, refer_cutoff=560, segment_cutoffs={"thin_file": {1: 600},
                                                                             "category": {"food": 580}},
                    lgd=0.45, apr=0.062, broker_fee_pct=1.5, funding_rate=0.04, term_months=24, positive_only=True)
    stored = json.loads(json.dumps(policy.to_dict()))
    assert stored["segment_cutoffs"][0] == {"column": "thin_file", "value": 1, "approve_cutoff": 600.0}
    assert Policy.from_dict(stored) == policy
    with pytest.raises(PolicyError, match="unknown policy field\\(s\\): colour"):
        Policy.from_dict({**stored, "colour": "red"})
    assert Policy.from_dict({"approve_cutoff": 620}) == Policy(approve_cutoff=620)


def test_policy_from_settings():
    policy = Policy.from_settings(get_settings(approve_cutoff=610, refer_cutoff=570, lgd=0.4), apr=0.05)
    assert (policy.approve_cutoff, policy.refer_cutoff, policy.lgd, policy.apr) == (610.0, 570.0, 0.4, 0.05)


@pytest.mark.parametrize(("column", "values", "message"), [
    ("score", [0, 650, 620, 600, 580, 560, 540, 500], "column score must be within 1–1000 and not missing; got 1 row"),
    ("pd", [0.01, np.nan, 0.03, 0.05, 0.08, 0.1, 0.15, 0.25], "column pd must be within 0–1 and not missing"),
    ("exposure_krw", [-1, 0, 0, 0, 0, 0, 0, 0], "column exposure_krw must be at least 0"),
    ("defaulted_12m", [0, 2, 0, 0, 0, 0, 0, 0], r"column defaulted_12m must be 0, 1 or missing; got 1 row\(s\) outside, e.g. \[2.0\]"),
])
def test_frame_validation_names_the_column(hand, column, values, message):
    with pytest.raises(ConfigError, match=message):
        evaluate(hand.assign(**{column: values}), POLICY)
    with pytest.raises(ConfigError, match="strategy frame is missing column\\(s\\): exposure_krw"):
        evaluate(hand.drop(columns="exposure_krw"), POLICY)


# ------------------------------------------------------------------ frame assembly

def test_default_exposure_rule():
    snap = pd.DataFrame({"gmv_3m_avg_krw": [1_234_567, 20_000_000, np.nan, 0, 33_333.4, 16_666_667]},
                        index=list("abcdef"))
    # 12 * 0.25 = three months of sales, down to 100,000, at most 50M
    assert default_exposure(snap).tolist() == [3_700_000, 50_000_000, 0, 0, 100_000, 50_000_000]


def test_strategy_frame_assembles_engine_outputs():
    idx = pd.Index(["A1", "A2", "A3"], name="merchant_id")
    snap = pd.DataFrame({"gmv_3m_avg_krw": [1_000_000, 2_500_000, 40_000], "tenure_months": [5.0, 30.0, 12.0],
                         "thin_file": [1.0, 0.0, 0.0], "bureau_score": [np.nan, 710.0, 655.0],
                         "category": pd.Categorical(["food", "pets", "food"])}, index=idx)
    scores = pd.DataFrame({"pd": [0.02, 0.04, 0.1], "score": [640, 600, 547], "grade": [3, 5, 8]}, index=idx[[1, 0, 2]])
    merchants = pd.DataFrame({"merchant_id": ["A3", "A2", "A1", "A9"], "region": ["경기도", "서울특별시", "부산광역시", "제주"],
                              "category": ["food", "pets", "food", "x"], "bureau_score": [655, 710, None, 1]})
    outcomes = pd.DataFrame({"merchant_id": ["A1", "A1", "A2"], "snapshot_month": ["2025-01", "2025-04", "2025-01"],
                             "defaulted_12m": [0, 1, 0]})
    frame = strategy_frame(snap, scores, merchants, outcomes)
    assert list(frame.index) == ["A2", "A1", "A3"]
    assert frame["exposure_krw"].tolist() == [7_500_000, 3_000_000, 100_000]
    assert frame["region"].tolist() == ["서울특별시", "부산광역시", "경기도"]
    assert frame["thin_file"].tolist() == [0, 1, 0]
    assert frame["category"].tolist() == ["pets", "food", "food"]
    assert frame["defaulted_12m"].tolist()[:2] == [0.0, 1.0] and np.isnan(frame["defaulted_12m"].iloc[2])
    by_month = strategy_frame(snap, scores, merchants, outcomes, outcome_month="2025-01")
    assert by_month["defaulted_12m"].tolist()[:2] == [0.0, 0.0]
    assert evaluate(frame, Policy(approve_cutoff=600, refer_cutoff=550)).n_approved == 2
    with pytest.raises(ConfigError, match="1 scored merchant\\(s\\) are not in the snapshot"):
        strategy_frame(snap.iloc[:2], scores, merchants)


# ------------------------------------------------------------------ curves

def _assert_same(a, b):
    assert a.to_dict() == pytest.approx(b.to_dict(), rel=1e-9, abs=1e-6, nan_ok=True)


def test_curves_match_evaluate_by_hand(hand):
    curves = CutoffCurves.precompute(hand, POLICY)
    assert curves.at(600) == evaluate(hand, POLICY)
    assert curves.at(600.5).n_approved == 3
    assert curves.at(560, 540).to_dict()["n_referred"] == 1                 # m7 540 referred
    assert curves.at(1).approval_rate == 1.0 and curves.at(1000).n_approved == 0
    table = curves.table()
    assert len(table) == 1000 and table["approve_cutoff"].tolist()[:3] == [1.0, 2.0, 3.0]
    row = table.loc[table["approve_cutoff"] == 600].iloc[0]
    assert row["n_approved"] == 4 and row["profit_krw"] == pytest.approx(490_000)
    assert row["refer_cutoff"] == 550 and table.loc[table["approve_cutoff"] == 520, "refer_cutoff"].item() == 520
    # economics may change without precomputing again
    cheaper = Policy(**{**POLICY.to_dict(), "lgd": 0.25, "apr": 0.05})
    _assert_same(curves.evaluate(cheaper), evaluate(hand, cheaper))


def test_curves_with_segment_overrides_and_positive_only(hand):
    frame = hand.assign(bureau_only_score=BUREAU_POINTS)
    policy = Policy(approve_cutoff=600, refer_cutoff=550, segment_cutoffs={"thin_file": {1: 570}}, positive_only=True)
    curves = CutoffCurves.precompute(frame, policy)
    for c in (500, 560, 575, 600, 640, 700):
        _assert_same(curves.at(c), evaluate(frame, Policy(**{**policy.to_dict(), "approve_cutoff": c,
                                                             "refer_cutoff": min(550, c)})))
    with pytest.raises(PolicyError, match="precomputed for other segment cutoffs"):
        curves.evaluate(Policy(approve_cutoff=600, refer_cutoff=550))
    with pytest.raises(PolicyError, match="refer_cutoff must not be above approve_cutoff; got refer_cutoff 610"):
        curves.at(600, 610)


@st.composite
def frames_and_policies(draw):
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    levels = np.array(draw(st.lists(st.integers(1, 1000), min_size=1, max_size=12)))  # few levels: many ties
    frame = pd.DataFrame({
        "score": rng.choice(levels, n), "pd": rng.random(n), "exposure_krw": rng.integers(0, 50, n) * 1e6,
        "thin_file": rng.integers(0, 2, n), "category": rng.choice(["a", "b", "c"], n),
        "defaulted_12m": rng.choice([0.0, 1.0, np.nan], n),
    }, index=[f"x{i}" for i in range(n)])
    if draw(st.booleans()):
        frame["apr"] = rng.uniform(0.03, 0.1, n)
        frame["broker_fee_pct"] = rng.uniform(0, 2, n)
    overrides = draw(st.sampled_from([{}, {"thin_file": {1: 620}}, {"category": {"a": 500, "b": 700}},
                                      {"thin_file": {1: 650}, "category": {"a": 600}}]))
    approve = draw(st.one_of(st.sampled_from([1.0, 1000.0]), st.floats(1, 1000), st.sampled_from(levels.astype(float))))
    refer = draw(st.floats(1, approve))
    policy = Policy(approve_cutoff=approve, refer_cutoff=refer, segment_cutoffs=overrides,
                    lgd=draw(st.floats(0, 1)), apr=draw(st.floats(0, 0.3)), term_months=draw(st.integers(1, 60)))
    return frame, policy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames_and_policies())
def test_curves_equal_evaluate_property(case):
    frame, policy = case
    curves = CutoffCurves.precompute(frame, Policy(segment_cutoffs=policy.segment_cutoffs))
    _assert_same(curves.evaluate(policy), evaluate(frame, policy))
    at = CutoffCurves.precompute(frame, policy).at(policy.approve_cutoff, policy.refer_cutoff)
    _assert_same(at, evaluate(frame, policy))


def test_curves_table_rows_equal_at_on_a_larger_book():
    frame = random_frame(3000, seed=3)
    curves = CutoffCurves.precompute(frame, POLICY)
    table = curves.table(step=7).set_index("approve_cutoff")
    for c in (1.0, 449.0, 554.0, 596.0, 652.0, 701.0, 995.0):  # on the 1 + 7k grid
        expected = evaluate(frame, Policy(**{**POLICY.to_dict(), "approve_cutoff": c, "refer_cutoff": min(550, c)}))
        got = table.loc[c].drop("refer_cutoff").to_dict()
        assert got == pytest.approx(expected.to_dict(), rel=1e-9, nan_ok=True)


# ------------------------------------------------------------------ swap sets and thin-file uplift

def test_swap_sets_at_equal_approval_by_hand(hand):
    swap = swap_sets(hand, POLICY)
    # bureau desc: m1 820, m6 760, m4 700, m3 640, m7 600 -> 4 approvals at 640
    assert (swap.bureau_cutoff, swap.match) == (640.0, "approval")
    assert swap.matrix.to_numpy().tolist() == [[3, 1], [1, 3]]
    s = swap.summary
    assert s.loc["swap_in", ["n", "n_thin_file", "n_with_outcome"]].tolist() == [1, 1, 1]           # m2
    assert (s.loc["swap_in", "expected_bad_rate"], s.loc["swap_in", "observed_bad_rate"]) == pytest.approx((0.02, 0.0))
    assert s.loc["swap_out", "n"] == 1                                                                # m6
    assert (s.loc["swap_out", "expected_bad_rate"], s.loc["swap_out", "observed_bad_rate"]) == pytest.approx((0.10, 1.0))
    assert s.loc["both_approve", "expected_bad_rate"] == pytest.approx(0.03)                         # m1 m3 m4
    assert s.loc["both_approve", "observed_bad_rate"] == pytest.approx(0.5)                          # m1 0, m4 1
    assert s.loc["both_decline", "expected_bad_rate"] == pytest.approx(0.16)                         # m5 m7 m8
    assert s.loc["both_decline", "observed_bad_rate"] == 0.0                                         # m7 only
    assert s.loc["approved_bureau", "expected_bad_rate"] == pytest.approx(0.0475)
    assert s.loc["approved_ours", "share"] == s.loc["approved_bureau", "share"] == 0.5
    assert swap.membership.tolist() == ["both_approve", "swap_in", "both_approve", "both_approve", "both_decline",
                                        "swap_out", "both_decline", "both_decline"]


def test_swap_sets_at_equal_bad_rate_and_given_cutoff(hand):
    swap = swap_sets(hand, POLICY, match="bad_rate")
    # bureau cumulative mean PD: 0.01, 0.055, 0.0533, 0.0475, 0.068 -> only 820 stays <= 0.0275
    assert swap.bureau_cutoff == 820.0
    assert swap.matrix.to_numpy().tolist() == [[1, 3], [0, 4]]
    assert swap.summary.loc["swap_in", "expected_bad_rate"] == pytest.approx(0.1 / 3)                # m2 m3 m4
    assert swap.summary.loc["swap_in", "observed_bad_rate"] == pytest.approx(0.5)                    # m2 0, m4 1
    assert math.isnan(swap.summary.loc["swap_out", "expected_bad_rate"])
    given_cut = swap_sets(hand, POLICY, bureau_cutoff=700)
    assert given_cut.match == "cutoff" and given_cut.matrix.to_numpy().tolist() == [[2, 2], [1, 3]]
    with pytest.raises(ConfigError, match="match must be 'approval' or 'bad_rate'; got 'volume'"):
        swap_sets(hand, POLICY, match="volume")


def test_swap_sets_cutoff_ties_choose_fewer(hand):
    tied = hand.assign(bureau_score=[700, np.nan, 700, 700, np.nan, 700, 600, np.nan])
    # 4 approvals wanted: 700 gives 4 exactly
    assert swap_sets(tied, POLICY).bureau_cutoff == 700.0
    # 2 approvals wanted: 700 gives 4, nothing gives 0 -> |4-2| == |0-2|, fewer wins
    assert swap_sets(tied, Policy(approve_cutoff=650, refer_cutoff=550)).bureau_cutoff == math.inf


def test_thin_file_uplift_by_hand(hand):
    u = thin_file_uplift(hand, POLICY, BUREAU_POINTS)
    assert (u.n_thin_file, u.thin_file_approval_rate, u.thin_file_approval_rate_bureau_only) == (3, 1 / 3, 0.0)
    assert u.thin_file_uplift == pytest.approx(1 / 3)
    # bureau-only approves m1 690, m3 610, m6 630; we approve m1..m4
    assert (u.n_turned_to_approval, u.n_turned_to_decline) == (2, 1)                # m2 m4 / m6
    # grades ours 1,3,4,5,6,7,8,9; bureau-only m1 1, m3 5, m4 6, m6 4, m7 7
    assert (u.n_better_grade, u.n_worse_grade) == (2, 2)                            # m3 m4 / m6 m7
    assert u.n_upgraded == 3                                                        # m2 m3 m4
    assert u.upgraded_share_of_applicants == 3 / 8 and u.upgraded_share_of_approved == 3 / 4


def test_bureau_only_scores_linear_mapping_by_hand(hand):
    points = bureau_only_scores(hand)
    assert points.attrs["method"] == "linear"                                      # 5 outcomes < 30
    s = np.array([700, 620, 600, 560, 540.0])
    b = np.array([820, 640, 700, 760, 600.0])
    expected = np.round(s.mean() + s.std() / b.std() * (b - b.mean()))
    assert points.dropna().tolist() == expected.tolist() == [685, 559, 601, 643, 531]
    assert points.isna().tolist() == [False, True, False, False, True, False, False, True]
    with pytest.raises(ConfigError, match="a logistic bureau mapping needs at least 30 thick-file merchants"):
        bureau_only_scores(hand, method="logistic")


def test_bureau_only_scores_logistic_is_monotone():
    frame = random_frame(2000, seed=5)
    points = bureau_only_scores(frame)
    assert points.attrs["method"] == "logistic" and points.attrs["coefficients"]["a"] < 0
    thick = frame["bureau_score"].notna()
    assert points[~thick].isna().all()
    order = frame.loc[thick, "bureau_score"].sort_values(kind="stable").index
    assert (np.diff(points[order].to_numpy()) >= 0).all()


# ------------------------------------------------------------------ rescue and checkers

def test_rescue_view_by_hand(hand):
    view = rescue_view(hand, POLICY, BUREAU_POINTS, PLATFORM_POINTS)
    s = view.summary
    assert view.merchants["positive_only_score"].tolist() == [700, 650, 620, 600, 580, 630, 560, 500]
    assert s["n"].to_dict() == {"approved_bureau_only": 3, "approved_ours": 4, "approved_positive_only": 5,
                                "lifted_by_platform": 2, "protected_by_floor": 1, "stage1_declined": 2,
                                "stage2_rescued": 1, "approved_two_stage": 5}
    assert s.loc["lifted_by_platform", ["expected_bad_rate", "observed_bad_rate"]].tolist() == pytest.approx([0.035, 0.5])
    assert s.loc["protected_by_floor", ["expected_bad_rate", "observed_bad_rate"]].tolist() == pytest.approx([0.10, 1.0])
    assert s.loc["stage2_rescued", ["expected_bad_rate", "observed_bad_rate"]].tolist() == pytest.approx([0.15, 0.0])
    assert view.merchants.loc["m7", "decision_two_stage"] == "approve"
    assert check_positive_only(view.merchants["positive_only_score"], BUREAU_POINTS).empty


def test_check_positive_only_reports_each_broken_promise():
    idx = pd.Index(["a", "b", "c", "d"], name="merchant_id")
    final = pd.Series([600, 590, np.nan, 500], index=idx)
    bureau = pd.Series([600, 620, 550, np.nan], index=idx)
    broken = check_positive_only(final, bureau)
    assert broken["merchant_id"].tolist() == ["c", "b"]
    assert broken["shortfall_points"].iloc[1] == 30
    with pytest.raises(ConfigError, match="same index"):
        check_positive_only(final, bureau.rename(index={"a": "z"}))


class _BrokenModel:
    """PD rises with sales (catalog: more sales must never raise it) and falls with returns."""

    features = ["gmv_3m_avg_krw", "return_rate_6m"]

    def score(self, X):
        logit = -3 + 0.5 * np.log10(X["gmv_3m_avg_krw"].to_numpy() + 1) - 4 * X["return_rate_6m"].to_numpy()
        return pd.DataFrame({"pd": expit(logit)}, index=X.index)


def test_check_monotone_finds_a_broken_model_and_passes_lightgbm():
    rng = np.random.default_rng(0)
    n = 1200
    X = pd.DataFrame({"return_rate_6m": rng.beta(2, 20, n), "gmv_3m_avg_krw": np.exp(rng.normal(15, 1, n))},
                     index=pd.Index([f"t{i}" for i in range(n)], name="merchant_id"))
    report = check_monotone(_BrokenModel(), X, n_rows=50, grid=8)
    assert report["feature"].tolist() == ["gmv_3m_avg_krw", "return_rate_6m"]
    assert report["risk_direction"].tolist() == [-1, 1]
    assert report["rows_violating"].tolist() == [50, 50] and (report["worst_move"] > 0).all()
    assert report["merchant_id"].isin(X.index).all()

    from cb_core.model import train_model

    z = -3 + 12 * (X["return_rate_6m"] - 0.09) - 0.8 * (np.log(X["gmv_3m_avg_krw"]) - 15)
    y = pd.Series((rng.random(n) < expit(z)).astype(int), index=X.index)
    time = pd.Series(np.repeat(["2024-01", "2024-02", "2024-03"], n // 3), index=X.index)
    model = train_model(X, y, time=time, params={"learning_rate": 0.1, "num_boost_round": 60,
                                                 "early_stopping_rounds": 20, "num_threads": 1})
    assert check_monotone(model, X, n_rows=100, grid=12).empty


# ------------------------------------------------------------------ segments

def test_segment_table_rates_by_hand(hand):
    t = segment_table(hand, POLICY, by="thin_file", n_boot=50).set_index("thin_file")
    assert t["n"].tolist() == [5, 3] and t["n_approved"].tolist() == [3, 1]
    assert t["approval_rate"].tolist() == pytest.approx([0.6, 1 / 3])
    assert t["expected_bad_rate"].tolist() == pytest.approx([0.03, 0.02])           # m1 m3 m4 / m2
    assert t["n_approved_with_outcome"].tolist() == [2, 1]
    assert t["observed_bad_rate"].tolist() == pytest.approx([0.5, 0.0])
    young = segment_table(hand, POLICY, by="tenure_lt_12m", n_boot=20).set_index("tenure_lt_12m")
    assert young.loc[1, ["n", "approval_rate", "expected_bad_rate", "observed_bad_rate"]].tolist() == \
        pytest.approx([4, 0.5, 0.035, 0.5])                                          # m2 m4 m5 m8
    assert young.loc[0, ["n", "approval_rate", "expected_bad_rate", "observed_bad_rate"]].tolist() == \
        pytest.approx([4, 0.5, 0.02, 0.0])                                           # m1 m3 m6 m7
    cat = segment_table(hand, POLICY, by="category", n_boot=20).set_index("category")
    assert cat.index.tolist() == ["digital", "fashion", "food"]
    assert cat["approval_rate"].tolist() == pytest.approx([0.0, 2 / 3, 2 / 3])
    assert math.isnan(cat.loc["digital", "expected_bad_rate"])


def test_segment_bootstrap_is_deterministic_and_covers_the_estimate():
    frame = random_frame(3000, seed=9)
    first = segment_table(frame, POLICY, by="category", n_boot=200, seed=4)
    pd.testing.assert_frame_equal(first, segment_table(frame, POLICY, by="category", n_boot=200, seed=4))
    assert not first.equals(segment_table(frame, POLICY, by="category", n_boot=200, seed=5))
    for rate in ("approval_rate", "expected_bad_rate", "observed_bad_rate"):
        assert (first[f"{rate}_low"] <= first[rate]).all() and (first[rate] <= first[f"{rate}_high"]).all()
    for rate in ("approval_rate", "expected_bad_rate"):  # an approved group without bads has a 0-wide one
        assert (first[f"{rate}_high"] - first[f"{rate}_low"] > 0).all()
    # about a binomial interval: approval rate +- 1.96 sd
    row = first.iloc[0]
    sd = math.sqrt(row["approval_rate"] * (1 - row["approval_rate"]) / row["n"])
    assert row["approval_rate_high"] - row["approval_rate_low"] == pytest.approx(2 * 1.96 * sd, rel=0.25)
    with pytest.raises(ConfigError, match="n_boot must be a whole number of at least 1; got 0"):
        segment_table(frame, POLICY, n_boot=0)
