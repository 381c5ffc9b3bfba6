import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from cb_core.model import metrics as M
from cb_core.errors import ConfigError

# four merchants: pairs (bad, good) ranked right 3 of 4 times
PD4 = [0.1, 0.4, 0.35, 0.8]
Y4 = [0, 0, 1, 1]


def test_auc_gini_by_hand():
    assert M.auc(PD4, Y4) == pytest.approx(0.75)
    assert M.gini(PD4, Y4) == pytest.approx(0.5)


def test_auc_ties_count_half():
    assert M.auc([0.5, 0.5], [0, 1]) == pytest.approx(0.5)
    assert M.auc([0.2, 0.5, 0.5], [0, 0, 1]) == pytest.approx(0.75)


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500) * 0.5 + 0.2 * y, 2)  # rounded: many ties
    assert M.auc(p, y) == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_roc_table_and_ks_by_hand():
    roc = M.roc_table(PD4, Y4)
    assert roc["threshold"].tolist() == [math.inf, 0.8, 0.4, 0.35, 0.1]
    assert roc["tpr"].tolist() == [0, 0.5, 0.5, 1, 1]
    assert roc["fpr"].tolist() == [0, 0, 0.5, 0.5, 1]
    assert M.ks(PD4, Y4) == pytest.approx(0.5)


def test_roc_table_groups_ties():
    roc = M.roc_table([0.3, 0.3, 0.1], [1, 0, 0])
    assert roc["threshold"].tolist() == [math.inf, 0.3, 0.1]
    assert roc["tpr"].tolist() == [0, 1, 1]
    assert roc["fpr"].tolist() == [0, 0.5, 1]


def test_ks_matches_scipy_two_sample():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    p = rng.normal(0.3 * y, 1.0)
    assert M.ks(p, y) == pytest.approx(ks_2samp(p[y == 1], p[y == 0]).statistic, abs=1e-12)


def test_brier_by_hand():
    assert M.brier(PD4, Y4) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_ks_table_by_hand():
    table = M.ks_table(PD4, Y4, n=2)                 # riskiest half: 0.8 (bad), 0.4 (good)
    assert table["count"].tolist() == [2, 2]
    assert table["bads"].tolist() == [1, 1]
    assert table["cum_bad_share"].tolist() == [0.5, 1.0]
    assert table["cum_good_share"].tolist() == [0.5, 1.0]
    assert table["ks"].tolist() == [0.0, 0.0]
    assert table["max"].tolist() == [0.8, 0.35]


def test_calibration_table_by_hand():
    table = M.calibration_table(PD4, Y4, bins=2)    # lowest PDs first: {0.1, 0.35}, {0.4, 0.8}
    assert table["bin"].tolist() == [1, 2]
    assert table["mean_pd"].tolist() == pytest.approx([0.225, 0.6])
    assert table["bad_rate"].tolist() == [0.5, 0.5]
    assert table["difference"].tolist() == pytest.approx([0.275, -0.1])
    assert table["pd_min"].tolist() == [0.1, 0.4]


PD10 = np.arange(1, 11) / 10
Y10 = [0, 0, 0, 0, 0, 1, 0, 1, 1, 1]


def test_gains_table_by_hand():
    g = M.gains_table(PD10, Y10, n=5)
    assert g["bin"].tolist() == [1, 2, 3, 4, 5]
    assert g["max"].tolist() == [1.0, 0.8, 0.6, 0.4, 0.2]
    assert g["count"].tolist() == [2] * 5
    assert g["bads"].tolist() == [2, 1, 1, 0, 0]
    assert g["bad_rate"].tolist() == [1.0, 0.5, 0.5, 0.0, 0.0]
    assert g["cum_bad_capture"].tolist() == pytest.approx([0.5, 0.75, 1.0, 1.0, 1.0])
    assert g["lift"].tolist() == pytest.approx([2.5, 1.25, 1.25, 0.0, 0.0])
    assert g["cum_lift"].tolist() == pytest.approx([2.5, 1.875, 1 / 0.6, 1.25, 1.0])


def test_gains_table_reads_scores_as_higher_is_safer():
    scores = 1000 * (1 - PD10)                        # 900 ... 0
    by_score = M.gains_table(scores, Y10, n=5)
    by_pd = M.gains_table(PD10, Y10, n=5)
    assert by_score["bads"].tolist() == by_pd["bads"].tolist()
    assert by_score["min"].tolist()[0] == 0.0
    forced = M.gains_table(PD10, Y10, n=5, kind="score")  # PDs read as scores: order flips
    assert forced["bads"].tolist() == [0, 0, 1, 1, 2]


def test_gains_table_ties_share_a_bin():
    pd6, y6 = [0.9, 0.5, 0.5, 0.5, 0.1, 0.1], [1, 0, 1, 0, 0, 0]
    assert M.gains_table(pd6, y6, n=3)["count"].tolist() == [1, 3, 2]
    halves = M.gains_table(pd6, y6, n=2)              # the 0.5s straddle the median: kept together
    assert halves["count"].tolist() == [1, 5]
    assert halves["bads"].tolist() == [1, 1]


def test_psi_by_hand_numeric():
    expected = np.arange(1, 11)                       # cut at the median 5.5
    actual = [1, 2, 3, 6, 7, 8, 9, 10, 11, 12]        # 30% / 70%
    by_hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + (0.7 - 0.5) * math.log(0.7 / 0.5)
    assert M.psi(expected, actual, bins=2) == pytest.approx(by_hand)
    table = M.psi_table(expected, actual, bins=2)
    assert table["upper"].tolist() == [5.5, math.inf]
    assert table["expected_count"].tolist() == [5, 5]
    assert table["actual_count"].tolist() == [3, 7]
    assert table["psi"].sum() == pytest.approx(by_hand)


def test_psi_identical_is_zero_and_empty_bin_is_finite():
    x = np.random.default_rng(1).normal(size=1000)
    assert M.psi(x, x) == pytest.approx(0.0)
    shifted = M.psi(x, x + 100)                       # every actual value in the top bin
    assert math.isfinite(shifted) and shifted > 1


def test_psi_categorical_and_missing_by_hand():
    got = M.psi(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert got == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    table = M.psi_table([1.0, 2.0, np.nan, np.nan], [1.0, 2.0, 3.0, np.nan], bins=1)
    assert table["bin"].tolist() == ["(-inf, inf]", "missing"]
    assert table["psi"].sum() == pytest.approx(0.25 * (math.log(1.5) + math.log(2)))


@pytest.mark.parametrize(("value", "band"), [(0.0, "stable"), (0.0999, "stable"), (0.1, "watch"),
                                             (0.2499, "watch"), (0.25, "shift"), (3.0, "shift")])
def test_psi_bands(value, band):
    assert M.psi_band(value) == band


def test_psi_by_column_worst_first():
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"score": rng.normal(600, 50, 2000), "gmv": rng.normal(0, 1, 2000)})
    now = pd.DataFrame({"score": rng.normal(600, 50, 2000), "gmv": rng.normal(0.8, 1, 2000)})
    table = M.psi_by_column(ref, now)
    assert table["column"].tolist() == ["gmv", "score"]
    assert table["band"].tolist() == ["shift", "stable"]
    assert table["psi"].iloc[0] == pytest.approx(M.psi(ref["gmv"], now["gmv"]))


def test_input_errors():
    with pytest.raises(ConfigError, match=r"y must be 0/1; got \[0.1, 0.4, 0.35, 0.8\]"):
        M.auc(Y4, PD4)                                # arguments swapped
    with pytest.raises(ConfigError, match="same length; got 4 and 3"):
        M.auc(PD4, [0, 1, 1])
    with pytest.raises(ConfigError, match=r"both goods \(0\) and bads \(1\); got only 0"):
        M.ks(PD4, [0, 0, 0, 0])
    with pytest.raises(ConfigError, match="pd must not contain missing values; got 1"):
        M.gini([0.1, np.nan], [0, 1])
    with pytest.raises(ConfigError, match="number of bins must be a whole number of at least 1; got 0"):
        M.gains_table(PD4, Y4, n=0)
    with pytest.raises(ConfigError, match="kind must be 'auto', 'pd' or 'score'"):
        M.gains_table(PD4, Y4, kind="odds")


def test_ece_is_the_count_weighted_gap_over_ten_equal_count_bins():
    from cb_core.model import metrics as M

    # 20 rows: bins of 2; predicted 0.1 everywhere except the top bin at 0.9
    pd_ = np.r_[np.full(18, 0.1), 0.9, 0.9]
    y = np.r_[np.zeros(18, dtype=int), 1, 0]
    # bins 1-9: |0 - 0.1| each, bin 10: |0.5 - 0.9|; each bin holds 2 of 20 rows
    assert M.ece(pd_, y) == pytest.approx((9 * 0.1 + 0.4) / 10)
    assert M.ece(np.full(4, 0.5), [0, 1, 0, 1], bins=1) == pytest.approx(0.0)
