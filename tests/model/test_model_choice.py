"""The model choice of small own tables (issue #14): the WoE/logistic scorecard's binning and points,
the choice by cross-validation inside the training rows, and each choice's card, scoring, explanation
and saved folder."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from cb_core.explain import points_by_feature, reason_codes, reference_points
from cb_core.model import load_model, score_from_logit, train_model
from cb_core.model import _choice
from cb_core.model import woe as W


def linear_table(n=900, seed=0):
    """A logistic truth, additive in its features: a scorecard's home ground. Missing values in
    ``utilisation`` carry risk of their own; ``region`` is categorical; ``noise`` is noise."""
    rng = np.random.default_rng(seed)
    util = rng.uniform(0, 1, n)
    months = rng.integers(1, 60, n).astype(float)
    region = rng.choice(["north", "south", "east", "west"], n)
    z = -1.3 + 2.2 * (util - 0.5) - 0.03 * (months - 30) + pd.Series(region).map(
        {"north": 0.0, "south": 0.6, "east": -0.5, "west": 0.3}).to_numpy()
    missing = rng.random(n) < 0.08
    z = np.where(missing, z + 1.0, z)
    util[missing] = np.nan
    y = (rng.random(n) < expit(z)).astype(int)
    X = pd.DataFrame({"utilisation": util, "months_on_book": months, "region": region,
                      "noise": rng.normal(size=n)}, index=[f"r{i}" for i in range(n)])
    return X, pd.Series(y, index=X.index)


def interaction_table(n=1500, seed=1):
    """Risk is high exactly when two features agree in sign: no sum of one-feature steps can rank it."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    z = -0.8 + 2.5 * np.sign(a) * np.sign(b)
    y = (rng.random(n) < expit(z)).astype(int)
    X = pd.DataFrame({"a": a, "b": b, "c": rng.normal(size=n)}, index=[f"r{i}" for i in range(n)])
    return X, pd.Series(y, index=X.index)


def _rule(aucs):
    """The simplest candidate (scorecard, LightGBM, blend) within 0.002 of the best inner AUC."""
    return next(n for n in ("woe_scorecard", "lightgbm", "blend") if aucs[n] >= max(aucs.values()) - 0.002)


def _shrunk_woe(bads, rows, rate):
    return logit((bads + W.PRIOR_ROWS * rate) / (rows + W.PRIOR_ROWS)) - logit(rate)


# ------------------------------------------------------------------ binning, by hand

def test_monotone_bins_merge_a_violating_bin_and_missing_is_its_own_bin():
    # values 1..4, 100 rows each, bads 10, 30, 20, 50: bin 3 breaks the rising trend and merges with bin 2
    x = np.repeat([1.0, 2.0, 3.0, 4.0], 100)
    y = np.concatenate([np.r_[np.ones(k), np.zeros(100 - k)] for k in (10, 30, 20, 50)])
    x = np.append(x, [np.nan] * 20)
    y = np.append(y, np.r_[np.ones(15), np.zeros(5)])
    steps, iv, trend = W.bin_feature(x, y, categorical=False)
    rate = y.mean()
    assert trend == "ascending"
    assert steps.edges.tolist() == [1.5, 3.5]
    assert steps.counts.tolist() == [100, 200, 100]
    expected = _shrunk_woe(np.array([10, 50, 50]), np.array([100, 200, 100]), rate)
    assert steps.values == pytest.approx(expected)
    assert steps.missing == pytest.approx(_shrunk_woe(15, 20, rate)) and steps.missing_count == 20
    assert steps(np.array([0.0, 2.0, 3.0, 9.0, np.nan])) == pytest.approx(
        [expected[0], expected[1], expected[1], expected[2], steps.missing])
    b, n = np.array([10, 50, 50, 15]), np.array([100, 200, 100, 20])
    woe = np.append(expected, steps.missing)
    assert iv == pytest.approx(np.sum((b / y.sum() - (n - b) / (len(y) - y.sum())) * woe))


def test_a_constraint_fixes_the_direction_and_small_levels_are_grouped():
    x = np.repeat([1.0, 2.0], 200)
    y = np.concatenate([np.r_[np.ones(60), np.zeros(140)], np.r_[np.ones(20), np.zeros(180)]])  # falling
    steps, _, trend = W.bin_feature(x, y, categorical=False, monotone=1)  # told: rising, so one flat bin
    assert trend == "flat" and len(steps.values) == 1
    # categorical codes 0..3; code 3 (5 rows) is too small alone and joins the level nearest in bad rate
    codes = np.repeat([0.0, 1.0, 2.0, 3.0], [100, 100, 100, 5])
    yc = np.concatenate([np.r_[np.ones(k), np.zeros(m - k)] for k, m in ((10, 100), (40, 100), (25, 100), (5, 5))])
    steps, _, trend = W.bin_feature(codes, yc, categorical=True, n_levels=5)
    assert trend == "by level" and steps.missing == 0.0 and steps.missing_count == 0  # no missing rows: neutral
    values = steps(np.array([0.0, 1.0, 2.0, 3.0, 4.0]))
    assert values[3] == values[1] == pytest.approx(_shrunk_woe(45, 105, yc.mean()))
    assert values[4] == 0.0  # a level no training row has
    assert values[0] < values[2] < values[1]


def test_scorecard_trees_predict_the_scorecard_and_points_add_up_per_feature():
    import lightgbm as lgb

    X, y = linear_table()
    M = np.column_stack([X["utilisation"], X["months_on_book"],
                         pd.Categorical(X["region"], categories=["east", "north", "south", "west"]).codes,
                         X["noise"]]).astype(float)
    sc = W.fit_woe_scorecard(M, y.to_numpy(), [False, False, True, False], [0, 0, 4, 0], [0, 0, 0, 0])
    booster = lgb.Booster(model_str=W.model_text(W.header_for(["u", "m", "r", "n"], M), W.scorecard_trees(sc)))
    assert booster.predict(M, raw_score=True) == pytest.approx(sc.margin(M), abs=1e-12)
    contrib = booster.predict(M, pred_contrib=True)
    # each feature's contribution is its own term, coef * WoE, less a constant
    for j in np.flatnonzero(sc.coef):
        term = sc.coef[j] * sc.steps[j](M[:, j])
        assert np.ptp(contrib[:, j] - term) == pytest.approx(0, abs=1e-9)
    assert sc.coef[3] == 0  # noise: below the information value floor


# ------------------------------------------------------------------ the choice

@pytest.fixture(scope="module")
def linear_model():
    X, y = linear_table()
    return X, y, train_model(X, y, catalog={}, n_folds=3, seed=2)


def test_a_logistic_truth_chooses_the_scorecard_or_the_blend(linear_model):
    _, _, model = linear_model
    choice = model.card["validation"]["model_choice"]
    aucs = {n: c["inner_auc"] for n, c in choice["candidates"].items()}
    assert set(aucs) == {"lightgbm", "woe_scorecard", "blend"}
    assert choice["chosen"] == _rule(aucs)
    assert choice["chosen"] in ("woe_scorecard", "blend")
    assert all(len(c["outer_folds_inner_auc"]) == 3 for c in choice["candidates"].values())
    assert sum(c["chosen_in_folds"] for c in choice["candidates"].values()) == 3
    assert [f["model"] for f in model.card["validation"]["folds"]] == [
        _rule(f["inner_auc"]) for f in model.card["validation"]["folds"]]
    assert choice["scorecard"]["noise"]["coef"] == 0 and choice["scorecard"]["utilisation"]["trend"] == "ascending"
    assert model.card["calibration"]["fitted_on"].startswith("out-of-fold margins")
    assert 0.6 < model.card["metrics"]["auc"] < 0.9


def test_strong_interactions_choose_lightgbm():
    X, y = interaction_table()
    model = train_model(X, y, catalog={}, n_folds=2, seed=0)
    choice = model.card["validation"]["model_choice"]
    assert choice["chosen"] == "lightgbm"
    assert choice["candidates"]["lightgbm"]["inner_auc"] > choice["candidates"]["woe_scorecard"]["inner_auc"] + 0.1
    assert model.card["params"]["num_leaves"] == _choice.SMALL_DATA_PARAMS["num_leaves"]


def test_the_choice_never_reads_an_outer_test_row(monkeypatch):
    from sklearn.model_selection import StratifiedKFold

    from cb_core.model import _training

    X, y = linear_table(500, seed=4)
    calls, stops = [], []
    real_choose, real_lgb, real_sc = _choice.choose_and_fit, _choice._Setup.lightgbm, _choice._Setup.scorecard
    real_booster = _training._train_booster

    def choose(setup, matrix, target, rows, seed):
        calls.append({"rows": set(rows.tolist()), "fits": []})
        result = real_choose(setup, matrix, target, rows, seed)
        calls[-1]["held"] = [set(h.tolist()) for h in result.inner_rows]
        return result

    def lightgbm(self, matrix, target, rows, seed, rounds=None):
        calls[-1]["fits"].append(set(rows.tolist()))
        return real_lgb(self, matrix, target, rows, seed, rounds)

    def scorecard(self, matrix, target, rows):
        calls[-1]["fits"].append(set(rows.tolist()))
        return real_sc(self, matrix, target, rows)

    def booster(params, features, levels, matrix, target, fit_rows, stop_rows, *rest):
        stops.append((set(np.asarray(fit_rows).tolist()), set() if stop_rows is None else set(stop_rows.tolist())))
        return real_booster(params, features, levels, matrix, target, fit_rows, stop_rows, *rest)

    monkeypatch.setattr(_choice, "choose_and_fit", choose)
    monkeypatch.setattr(_choice._Setup, "lightgbm", lightgbm)
    monkeypatch.setattr(_choice._Setup, "scorecard", scorecard)
    monkeypatch.setattr(_training, "_train_booster", booster)
    train_model(X, y, catalog={}, n_folds=3, seed=7)
    outer = [(set(tr.tolist()), set(te.tolist()))
             for tr, te in StratifiedKFold(3, shuffle=True, random_state=7).split(X, y)]
    assert len(calls) == 4  # one per outer fold, then every row for the kept model
    for call, (train, test) in zip(calls[:3], outer):
        assert call["rows"] == train
        assert all(not (rows & test) for rows in call["fits"])
        assert set().union(*call["held"]) == train and sum(map(len, call["held"])) == len(train)  # inner folds
        for k, held in enumerate(call["held"]):  # the inner fold's fits (LightGBM, scorecard) skip its rows
            assert not (call["fits"][2 * k] & held) and not (call["fits"][2 * k + 1] & held)
    assert calls[3]["rows"] == set(range(len(X)))
    for fit_rows, stop_rows in stops:  # LightGBM early-stops on rows it is not fitted on
        assert not (fit_rows & stop_rows)


@pytest.mark.parametrize("candidate", ["woe_scorecard", "blend", "lightgbm"])
def test_each_choice_scores_explains_saves_and_loads(candidate, tmp_path, monkeypatch):
    X, y = linear_table(600, seed=3)
    X["empty"] = np.nan  # bad input: a column with no values, and one with a single value
    X["constant"] = 1.0
    monkeypatch.setattr(_choice, "MODEL_CANDIDATES", (candidate,))
    model = train_model(X, y, catalog={}, n_folds=2, seed=1)
    assert model.card["validation"]["model_choice"]["chosen"] == candidate
    rows = X.head(120).copy()
    rows.loc[rows.index[:5], "region"] = "nowhere"  # a category the training rows never had
    points = points_by_feature(model, rows)
    total = points.sum(axis=1).to_numpy()
    assert total == pytest.approx(score_from_logit(model.logit(rows).to_numpy(), model.scale), abs=1e-6)
    if candidate == "woe_scorecard":  # a feature the scorecard left out never moves a score
        summary = model.card["validation"]["model_choice"]["scorecard"]
        left_out = {f for f, s in summary.items() if s["coef"] == 0}
        assert {"empty", "constant"} <= left_out and left_out == set(model.card["unused_features"])
        assert all((points[f"points__{f}"] == 0).all() for f in left_out)
        assert summary["empty"]["bins"] == 1 and summary["constant"]["trend"] == "flat"
    scores = model.score(rows)["score"]
    reference = reference_points(points, scores, cutoff=float(scores.median()))
    low = scores.idxmin()
    reasons = reason_codes(model, points.loc[low], rows.loc[low], reference_points=reference, peer_percentiles=None,
                           lang="en")
    assert len(reasons) > 0  # the lowest score is explained by the points it lost against the reference
    again = load_model(model.save(tmp_path / "m"))
    assert again.version == model.version
    assert again.predict_pd(rows).to_numpy() == pytest.approx(model.predict_pd(rows).to_numpy(), abs=1e-12)


def test_out_of_time_the_choice_reads_the_training_window_only(monkeypatch):
    X, y = linear_table(900, seed=5)
    period = pd.Series(np.repeat(np.arange(1, 10), 100), index=X.index)  # 9 periods of 100 rows
    seen = []
    real = _choice.choose_and_fit

    def choose(setup, matrix, target, rows, seed):
        seen.append(set(rows.tolist()))
        return real(setup, matrix, target, rows, seed)

    monkeypatch.setattr(_choice, "choose_and_fit", choose)
    model = train_model(X, y, time=period, catalog={}, seed=1)
    v = model.card["validation"]
    train_rows = set(np.flatnonzero(period.astype(str).isin(v["train"]["periods"]).to_numpy()).tolist())
    assert seen == [train_rows] and max(int(p) for p in v["train"]["periods"]) < min(
        int(p) for p in v["valid"]["periods"]) < min(int(p) for p in v["test"]["periods"])
    assert set(v["model_choice"]["candidates"]) == {"lightgbm", "woe_scorecard", "blend"}
    assert v["model_choice"]["chosen"] == _rule({n: c["inner_auc"] for n, c in v["model_choice"]["candidates"].items()})
    assert model.card["calibration"]["fitted_on"] == "early-stopping/calibration window"
    assert v["test"]["rows"] == 200 and v["test"]["periods"] == ["8", "9"]
    # a book (an outcome horizon) keeps LightGBM: no choice
    monkeypatch.undo()
    months = pd.Series([f"2024-{int(p):02d}" for p in period], index=X.index)
    book_like = train_model(X, y, time=months, catalog={}, horizon_months=12)
    assert "model_choice" not in book_like.card["validation"]
    assert book_like.card["params"]["num_leaves"] == 15  # DEFAULT_PARAMS: LightGBM as before
