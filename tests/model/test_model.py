import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from cb_core.model import metrics as M
from cb_core.errors import ConfigError, MissingFeaturesError, ModelError
from cb_core.model import (
    BOOSTER_FILE, CARD_FILE, fit_platt, load_model, out_of_time_split, train_model, train_scorecard,
)
from cb_core.model import ScoreScale, grade_of, score_from_logit

# one thread: on a busy 2-core machine two OpenMP threads can make LightGBM 100x slower
FAST = {"learning_rate": 0.1, "num_boost_round": 120, "early_stopping_rounds": 20, "num_threads": 1}
MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]


def make_table(n=3000, seed=1):
    """Features with known monotone effects on a logistic target; catalog names where they exist.

    return_rate_6m raises risk (+1 in the catalog), gmv_3m_avg_krw lowers it (-1),
    region_income_index is sensitive, my_signal is not in the catalog, category is categorical.
    Six months of 500 rows each, rows not in time order.
    """
    rng = np.random.default_rng(seed)
    ret = rng.beta(2, 20, n)
    gmv = np.exp(rng.normal(15, 1, n))
    income = rng.normal(100, 15, n)
    own = rng.normal(0, 1, n)
    cat = rng.choice(["fashion", "food", "digital", "beauty"], n)
    cat_effect = pd.Series(cat).map({"fashion": 0.0, "food": -0.4, "digital": 0.5, "beauty": 0.2}).to_numpy()
    z = -3.0 + 12 * (ret - 0.09) - 0.8 * (np.log(gmv) - 15) - 0.01 * (income - 100) + 0.3 * own + cat_effect
    true_pd = expit(z)
    y = (rng.random(n) < true_pd).astype(int)
    ret[rng.random(n) < 0.05] = np.nan
    index = pd.Index([f"m{i:05d}" for i in range(n)], name="merchant_id")
    X = pd.DataFrame({"return_rate_6m": ret, "gmv_3m_avg_krw": gmv, "region_income_index": income,
                      "my_signal": own, "category": pd.Categorical(cat)}, index=index)
    time = pd.Series(rng.permutation(np.repeat(MONTHS, n // len(MONTHS))), index=index, name="month")
    return X, pd.Series(y, index=index, name="defaulted_12m"), time, pd.Series(true_pd, index=index)


@pytest.fixture(scope="module")
def table():
    return make_table()


@pytest.fixture(scope="module")
def oot_model(table):
    X, y, time, true_pd = table
    return train_model(X, y, time=time, params=FAST, oracle_pd=true_pd, data_fingerprint="fp-123")


@pytest.fixture(scope="module")
def cv_model(table):
    X, y, _, _ = table
    return train_model(X, y, params=FAST, n_folds=3)


# ------------------------------------------------------------------ split and validation

def test_out_of_time_split_takes_latest_periods_without_shuffling():
    time = np.array(["2024-03", "2024-01", "2024-04", "2024-02", "2024-04", "2024-03", "2024-01", "2024-02",
                     "2024-04", "2024-02"])
    split = out_of_time_split(time, valid_share=0.3)
    assert split.valid_periods == ["2024-04"]
    assert split.train_periods == ["2024-01", "2024-02", "2024-03"]
    assert split.valid_mask.tolist() == [t == "2024-04" for t in time]
    assert (split.train_mask == ~split.valid_mask).all()
    # 0.5 of rows: the last two periods (5 rows) are closest
    assert out_of_time_split(time, valid_share=0.5).valid_periods == ["2024-03", "2024-04"]


def test_out_of_time_split_errors():
    with pytest.raises(ConfigError, match="needs at least 2 periods in time; got 1"):
        out_of_time_split(["2024-01"] * 5)
    with pytest.raises(ConfigError, match="valid_share must be between 0 and 1; got 1.5"):
        out_of_time_split(["2024-01", "2024-02"], valid_share=1.5)


def test_oot_model_has_three_disjoint_windows_on_the_card(oot_model, table):
    X, y, time, _ = table
    v = oot_model.card["validation"]
    assert v["method"] == "out_of_time" and v["period_order"] == "date"
    assert v["train"]["periods"] == MONTHS[:4]
    assert v["valid"]["periods"] == ["2024-05"]
    assert v["test"]["periods"] == ["2024-06"]
    periods = [set(v[w]["periods"]) for w in ("train", "valid", "test")]
    assert not (periods[0] & periods[1]) and not (periods[0] & periods[2]) and not (periods[1] & periods[2])
    assert max(v["train"]["periods"]) < min(v["valid"]["periods"]) <= max(v["valid"]["periods"]) < min(v["test"]["periods"])
    assert (v["train"]["rows"], v["valid"]["rows"], v["test"]["rows"]) == (2000, 500, 500)
    for w, months in (("train", MONTHS[:4]), ("valid", ["2024-05"]), ("test", ["2024-06"])):
        assert v[w]["bads"] == int(y[time.isin(months)].sum())
    assert v["purged_rows"] == 0


def test_metrics_equal_an_independent_recomputation_on_the_test_rows(oot_model, table):
    X, y, time, true_pd = table
    test = time == "2024-06"
    p = oot_model.predict_pd(X[test]).to_numpy()
    t = y[test].to_numpy()
    m = oot_model.card["metrics"]
    # by hand: AUC as the share of (bad, good) pairs ranked right, ECE over 10 equal-count bins
    bad, good = p[t == 1], p[t == 0]
    pairs = (bad[:, None] > good[None, :]).sum() + 0.5 * (bad[:, None] == good[None, :]).sum()
    assert m["auc"] == pytest.approx(pairs / (len(bad) * len(good)), abs=1e-12)
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1)
    assert m["brier"] == pytest.approx(np.mean((p - t) ** 2), abs=1e-12)
    assert m["ks"] == pytest.approx(M.ks(p, t), abs=1e-12)
    order = np.argsort(p, kind="mergesort")
    ece = sum(len(b) * abs(t[b].mean() - p[b].mean()) for b in np.array_split(order, 10)) / len(p)
    assert m["ece"] == pytest.approx(ece, abs=1e-12)
    assert m["oracle_auc"] == pytest.approx(M.auc(true_pd[test], y[test]))
    assert m["bad_rate"] == pytest.approx(t.mean()) and m["mean_pd"] == pytest.approx(p.mean())


def test_model_ranks_clearly_better_than_chance(oot_model, cv_model, table):
    X, y, time, true_pd = table
    assert oot_model.card["metrics"]["auc"] > 0.70
    assert cv_model.card["metrics"]["auc"] > 0.70
    assert "oracle_auc" not in cv_model.card["metrics"]


def test_calibration_is_platt_on_the_early_stopping_window_not_the_test_window(oot_model, table):
    X, y, time, _ = table
    valid = time == "2024-05"
    a, b = oot_model.calibration
    margin = oot_model.margin(X[valid]).to_numpy()
    p = expit(a * margin + b)
    # maximum-likelihood conditions of a logistic fit: both score equations vanish
    assert np.sum(p - y[valid]) == pytest.approx(0, abs=1e-6)
    assert np.sum((p - y[valid]) * margin) == pytest.approx(0, abs=1e-6)
    assert oot_model.card["calibration"]["fitted_on"] == "early-stopping/calibration window"
    test = time == "2024-06"
    margin = oot_model.margin(X[test]).to_numpy()
    assert abs(np.sum((expit(a * margin + b) - y[test]) * margin)) > 1e-3


def test_early_stopping_never_sees_the_test_window(table, monkeypatch):
    from cb_core.model import _training

    X, y, time, _ = table
    seen = []
    real = _training._train_booster

    def watched(params, features, levels, matrix, target, fit_rows, stop_rows, *rest):
        seen.append((np.asarray(fit_rows), None if stop_rows is None else np.asarray(stop_rows)))
        return real(params, features, levels, matrix, target, fit_rows, stop_rows, *rest)

    monkeypatch.setattr(_training, "_train_booster", watched)
    train_model(X, y, time=time, params=FAST)
    (fit_rows, stop_rows), = seen
    t = time.to_numpy()
    assert set(t[fit_rows]) == set(MONTHS[:4]) and set(t[stop_rows]) == {"2024-05"}


def test_nested_cv_never_early_stops_or_calibrates_on_an_outer_test_fold(table, monkeypatch):
    from sklearn.model_selection import StratifiedKFold
    from cb_core.model import _training

    X, y, _, _ = table
    stops = []
    real = _training._train_booster

    def watched(params, features, levels, matrix, target, fit_rows, stop_rows, *rest):
        stops.append((set(np.asarray(fit_rows).tolist()), None if stop_rows is None else set(stop_rows.tolist())))
        return real(params, features, levels, matrix, target, fit_rows, stop_rows, *rest)

    monkeypatch.setattr(_training, "_train_booster", watched)
    model = train_model(X, y, params=FAST, n_folds=3, seed=5)
    outer = [set(test.tolist()) for _, test in StratifiedKFold(3, shuffle=True, random_state=5).split(X, y)]
    assert len(stops) == 4  # one per outer fold, then the kept model (no early stopping)
    for (fit_rows, stop_rows), test in zip(stops[:3], outer):
        assert stop_rows and not (stop_rows & test) and not (fit_rows & test) and not (fit_rows & stop_rows)
        assert len(fit_rows | stop_rows | test) == len(X)
    assert stops[3][1] is None and len(stops[3][0]) == len(X)
    v = model.card["validation"]
    assert v["method"] == "nested_cv" and v["n_folds"] == 3 and v["seed"] == 5
    assert [f["test_rows"] for f in v["folds"]] == [len(t) for t in outer]
    assert v["test"]["rows"] == len(X) and v["test"]["bads"] == int(y.sum())


def test_fit_platt_recovers_known_slope_and_intercept():
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 2, 40_000)
    y = (rng.random(40_000) < expit(0.7 * margin - 1.2)).astype(int)
    a, b = fit_platt(margin, y)
    assert a == pytest.approx(0.7, abs=0.03)
    assert b == pytest.approx(-1.2, abs=0.05)


def test_kfold_model_card(cv_model):
    v = cv_model.card["validation"]
    assert v["method"] == "nested_cv"
    assert v["n_folds"] == 3 and len(v["fold_best_iterations"]) == 3
    assert cv_model.card["best_iteration"] == max(1, round(np.mean(v["fold_best_iterations"])))
    assert cv_model.booster.num_trees() == cv_model.card["best_iteration"]
    assert cv_model.card["calibration"]["fitted_on"] == "outer folds' out-of-fold margins"
    assert set(cv_model.card["metrics"]) >= {"auc", "gini", "ks", "brier", "ece"}


# ------------------------------------------------------------------ constraints and catalog

@pytest.mark.parametrize("which", ["oot", "cv"])
def test_monotone_constraints_hold_on_swept_rows(which, oot_model, cv_model, table):
    model = oot_model if which == "oot" else cv_model
    X = table[0].iloc[:150]
    for feature, grid, direction in [("return_rate_6m", np.linspace(0, 0.5, 26), +1),
                                     ("gmv_3m_avg_krw", np.exp(np.linspace(12, 18, 26)), -1),
                                     ("region_income_index", np.linspace(40, 160, 26), -1)]:
        scores = np.column_stack([
            score_from_logit(model.logit(X.assign(**{feature: v})).to_numpy(), model.scale, clip=False)
            for v in grid])
        steps = np.diff(scores, axis=1)
        if direction > 0:   # more risk never raises the score
            assert (steps <= 1e-9).all(), feature
        else:
            assert (steps >= -1e-9).all(), feature
        assert np.abs(scores[:, -1] - scores[:, 0]).max() > 1, feature   # and the feature is used


def test_constraints_and_labels_come_from_the_catalog(oot_model):
    assert oot_model.card["monotone_constraints"] == {
        "return_rate_6m": 1, "gmv_3m_avg_krw": -1, "region_income_index": -1, "my_signal": 0, "category": 0}
    assert oot_model.card["params"]["monotone_constraints"] == [1, -1, -1, 0, 0]
    assert oot_model.feature_label("return_rate_6m") == "반품률"
    assert oot_model.feature_label("return_rate_6m", "en") == "Return rate"
    assert oot_model.feature_label("my_signal", "en") == "my_signal"       # bring-your-own feature
    assert oot_model.feature_actionable("return_rate_6m") is True
    assert oot_model.feature_actionable("my_signal") is False
    entry = next(f for f in oot_model.card["features"] if f["name"] == "region_income_index")
    assert entry["catalog"]["sensitive"] is True
    assert oot_model.categorical_levels == {"category": ["beauty", "digital", "fashion", "food"]}


def test_exclude_sensitive_drops_flagged_features(table):
    X, y, time, _ = table
    model = train_model(X, y, time=time, params=FAST, exclude_sensitive=True)
    assert "region_income_index" not in model.features
    assert model.card["excluded_sensitive"] == ["region_income_index"]
    assert model.features == ["return_rate_6m", "gmv_3m_avg_krw", "my_signal", "category"]


def test_custom_catalog_is_used_for_own_tables(table):
    X, y, time, _ = table
    renamed = X.rename(columns={"return_rate_6m": "x_up"})
    model = train_model(renamed, y, time=time, params=FAST, catalog={})
    assert set(model.card["monotone_constraints"].values()) == {0}
    assert model.feature_label("x_up") == "x_up"


# ------------------------------------------------------------------ predictions

def test_score_frame_preserves_index_and_is_consistent(oot_model, table):
    X = table[0].iloc[[5, 1, 900]]
    got = oot_model.score(X)
    assert list(got.index) == list(X.index)
    assert list(got.columns) == ["pd", "score", "grade"]
    logit = oot_model.logit(X).to_numpy()
    assert got["pd"].to_numpy() == pytest.approx(expit(logit))
    expected = np.clip(np.round(ScoreScale().offset - ScoreScale().factor * logit), 1, 1000)
    assert got["score"].tolist() == expected.astype(int).tolist()
    assert got["grade"].tolist() == grade_of(expected).tolist()
    assert got["score"].dtype == np.int64


def test_one_merchant_as_series_scores_like_the_frame(oot_model, table):
    X = table[0]
    one = oot_model.score(X.iloc[7])
    assert list(one.index) == [X.index[7]]
    assert one.iloc[0].tolist() == oot_model.score(X.iloc[[7]]).iloc[0].tolist()


def test_coercion_of_column_order_types_and_unseen_categories(oot_model, table):
    X = table[0].iloc[:200]
    base = oot_model.predict_pd(X).to_numpy()
    shuffled = X[["category", "my_signal", "gmv_3m_avg_krw", "region_income_index", "return_rate_6m"]].assign(extra=1)
    assert np.array_equal(oot_model.predict_pd(shuffled).to_numpy(), base)
    as_text = X.assign(category=X["category"].astype(str))
    assert np.array_equal(oot_model.predict_pd(as_text).to_numpy(), base)
    reordered = X.assign(category=X["category"].cat.reorder_categories(["food", "fashion", "digital", "beauty"]))
    assert np.array_equal(oot_model.predict_pd(reordered).to_numpy(), base)
    unseen = X.assign(category="toys")
    missing = X.assign(category=pd.Categorical([np.nan] * len(X), categories=["beauty"]))
    assert np.array_equal(oot_model.predict_pd(unseen).to_numpy(), oot_model.predict_pd(missing).to_numpy())


def test_missing_features_are_named(oot_model, table):
    X = table[0].drop(columns=["gmv_3m_avg_krw", "category"])
    message = "model needs features missing from the data: gmv_3m_avg_krw, category"
    with pytest.raises(MissingFeaturesError, match=message):
        oot_model.score(X)


def test_non_numeric_value_in_numeric_feature(oot_model, table):
    X = table[0].iloc[:3].astype({"my_signal": object})
    X.loc[X.index[0], "my_signal"] = "high"
    with pytest.raises(ModelError, match="feature my_signal must be numeric"):
        oot_model.predict_pd(X)


# ------------------------------------------------------------------ artifact

def test_save_load_round_trip(oot_model, table, tmp_path):
    X = table[0]
    folder = oot_model.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == [BOOSTER_FILE, CARD_FILE]
    loaded = load_model(folder)
    assert loaded.version == oot_model.version
    assert re.fullmatch(r"[0-9a-f]{12}", loaded.version)
    assert np.array_equal(loaded.predict_pd(X).to_numpy(), oot_model.predict_pd(X).to_numpy())
    assert loaded.score(X).equals(oot_model.score(X))
    assert loaded.card == json.loads(json.dumps(oot_model.card))
    card = loaded.card
    assert card["data_fingerprint"] == "fp-123"
    assert card["scale"] == {"pdo": 40.0, "base_score": 600.0, "base_odds": 50.0}
    assert card["grade_boundaries"] == [680.0, 660.0, 640.0, 620.0, 600.0, 580.0, 560.0, 540.0, 500.0]
    assert set(card["metrics"]) >= {"auc", "gini", "ks", "brier", "oracle_auc"}
    # overwrite in place leaves no temporary folders behind
    oot_model.save(tmp_path / "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_version_is_a_content_hash(table, oot_model):
    X, y, time, true_pd = table
    again = train_model(X, y, time=time, params=FAST, oracle_pd=true_pd, data_fingerprint="other")
    assert again.version == oot_model.version          # deterministic training, same content
    other = train_model(X, y, time=time, params={**FAST, "num_leaves": 7})
    assert other.version != oot_model.version


def test_save_refuses_to_replace_a_folder_that_is_not_a_model(oot_model, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(ModelError, match="refusing to overwrite .*notes"):
        oot_model.save(tmp_path / "notes")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"


@pytest.fixture()
def saved(oot_model, tmp_path):
    return oot_model.save(tmp_path / "m")


def test_load_missing_folder_and_files(saved, tmp_path):
    with pytest.raises(ModelError, match="model folder not found: .*nowhere"):
        load_model(tmp_path / "nowhere")
    (saved / BOOSTER_FILE).unlink()
    with pytest.raises(ModelError, match="has no booster.txt"):
        load_model(saved)


def test_load_card_not_json(saved):
    (saved / CARD_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="card.json is not valid JSON"):
        load_model(saved)


def test_load_card_without_entries(saved):
    card = json.loads((saved / CARD_FILE).read_text())
    del card["calibration"]
    (saved / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="card.json lacks calibration"):
        load_model(saved)


def test_load_corrupted_booster(saved):
    (saved / BOOSTER_FILE).write_text("this is not a LightGBM model\n")
    with pytest.raises(ModelError, match="booster.txt is corrupted"):
        load_model(saved)


def test_load_truncated_or_edited_booster(saved):
    text = (saved / BOOSTER_FILE).read_text()
    (saved / BOOSTER_FILE).write_text(text[: len(text) // 2])
    with pytest.raises(ModelError, match="corrupted"):
        load_model(saved)
    edited = re.sub(r"leaf_value=(\S+)", lambda m: "leaf_value=0.5", text, count=1)
    (saved / BOOSTER_FILE).write_text(edited)
    with pytest.raises(ModelError, match="does not match its card: content hash [0-9a-f]{12}"):
        load_model(saved)


def test_load_feature_list_mismatch(saved):
    card = json.loads((saved / CARD_FILE).read_text())
    card["features"][1]["name"] = "gmv_12m_total_krw"
    (saved / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"feature list of .*card.json \(.*gmv_12m_total_krw.*\) does not match"):
        load_model(saved)


# ------------------------------------------------------------------ input checks

def test_training_input_errors(table):
    X, y, time, _ = table
    with pytest.raises(ConfigError, match=r"y must be 0/1; got \[2.0\]"):
        train_model(X, y.replace({1: 2}), params=FAST)
    with pytest.raises(ConfigError, match=r"y must contain both goods \(0\) and bads \(1\); got only 0"):
        train_model(X, y * 0, params=FAST)
    with pytest.raises(ConfigError, match="y must have the same index as X"):
        train_model(X, y.reset_index(drop=True), params=FAST)
    with pytest.raises(ConfigError, match="feature names must be non-empty text; got 7"):
        train_model(X.rename(columns={"my_signal": 7}), y, params=FAST)
    with pytest.raises(ConfigError, match=r"needs at least 3 periods in time \(train, early-stop/calibrate, test\); got 1"):
        train_model(X, y, time=time.where(time == "x", "2024-01"), params=FAST)
    with pytest.raises(ConfigError, match="n_folds must be a whole number of at least 2; got 1"):
        train_model(X, y, n_folds=1, params=FAST)
    no_bads_late = y.where(~time.isin(MONTHS[5:]), 0)
    with pytest.raises(ConfigError, match=r"the test window \(2024-06\) has only goods; it needs both"):
        train_model(X, no_bads_late, time=time, params=FAST)


# ------------------------------------------------------------------ challenger

def test_scorecard_challenger_on_the_same_split(table, oot_model):
    X, y, time, _ = table
    result = train_scorecard(X, y, time=time)
    assert result.validation["test"] == {k: v for k, v in oot_model.card["validation"]["test"].items() if k != "role"}
    test = time.isin(MONTHS[5:])
    assert result.metrics["auc"] == pytest.approx(M.auc(result.predict_pd(X[test]), y[test]), abs=1e-12)
    assert set(result.metrics) == {"auc", "gini", "ks", "brier", "ece"}
    assert result.metrics["auc"] > 0.65
    assert list(result.table.columns) == ["Variable", "Bin", "Points"]
    assert set(result.table["Variable"]) == set(X.columns)
    # catalog direction: a higher return rate never earns more points
    ret = result.table[(result.table["Variable"] == "return_rate_6m")
                       & ~result.table["Bin"].astype(str).isin(["Special", "Missing"])]["Points"].to_numpy()
    assert len(ret) >= 2 and (np.diff(ret) <= 1e-9).all()


def test_scorecard_challenger_without_time_uses_k_folds(table):
    X, y, _, _ = table
    result = train_scorecard(X, y, n_folds=2)
    assert result.validation == {"method": "stratified_kfold", "n_folds": 2}
    assert result.metrics["auc"] > 0.65
    assert result.metrics["gini"] == pytest.approx(2 * result.metrics["auc"] - 1)


def test_empty_feature_is_unused_by_the_model_and_dropped_by_the_scorecard(table):
    X, y, time, _ = table
    with_empty = X.assign(empty_feature=np.nan)
    model = train_model(with_empty, y, time=time, params=FAST)
    assert model.card["unused_features"] == ["empty_feature"]
    result = train_scorecard(with_empty, y, time=time)
    assert result.dropped_features == {"empty_feature": "0 distinct value(s) in the training rows"}
    assert "empty_feature" not in result.features


def test_report_data_shows_the_windows_and_the_test_windows_calibration(oot_model, table, tmp_path):
    from cb_core.model import TrainingReport, save_bundle, validation_windows
    from cb_core.workspace import model_report_data

    X, y, time, _ = table
    test = time == "2024-06"
    rows = pd.DataFrame({"merchant_id": X.index[test], "snapshot_month": time[test].to_numpy(),
                         "defaulted_12m": y[test].to_numpy(), "pd": oot_model.predict_pd(X[test]).to_numpy(),
                         "score": oot_model.score(X[test])["score"].to_numpy()})
    folder = save_bundle(oot_model, TrainingReport(validation=rows), tmp_path / "m")
    data = model_report_data(folder)
    windows = data["windows"].set_index("window")
    assert list(windows.index) == ["train", "valid", "test"]
    assert windows.loc["test", "periods"] == "2024-06" and windows.loc["valid", "periods"] == "2024-05"
    assert windows.loc["test", "rows"] == 500 and windows.loc["test", "bads"] == int(y[test].sum())
    assert windows.loc["valid", "role"] == "early stopping and calibration"
    pd.testing.assert_frame_equal(data["windows"], validation_windows(oot_model.card))
    cal = data["calibration"]
    assert cal["count"].sum() == 500 and len(cal) == 10
    assert float((cal["count"] * cal["difference"].abs()).sum() / 500) == pytest.approx(oot_model.card["metrics"]["ece"])


def test_purge_keeps_one_merchants_default_out_of_training_and_test_rows():
    from cb_core.model import outcome_gap, purge, time_windows

    months = ["2025-01", "2025-04", "2025-07", "2025-10", "2026-10"]
    time = pd.Series(np.repeat(months, 4))
    groups = pd.Series(["a", "b", "c", "d"] * 5)
    # test window: 2026-10 (a, b, c, d); valid: 2025-10; train: 2025-01..2025-07
    windows = time_windows(time, test_share=0.2, valid_share=0.2)
    assert windows.test_periods == ["2026-10"] and windows.valid_periods == ["2025-10"]
    purged = purge(windows, groups, time, horizon_months=12)
    # a training row overlaps when its snapshot is under 12 months before the merchant's test snapshot:
    # 2025-01 and 2025-04 end their windows before 2026-10 starts; 2025-07 ends in 2026-07: no overlap either
    assert purged.purged_mask.sum() == 0
    shifted = time.replace({"2026-10": "2026-01"})
    windows = time_windows(shifted, test_share=0.2, valid_share=0.2)
    purged = purge(windows, groups, shifted, horizon_months=12)
    # test 2026-01: 2025-04 (9 months before) and 2025-07 (6) overlap, 2025-01 (12) does not
    assert sorted(set(shifted[purged.purged_mask])) == ["2025-04", "2025-07"]
    assert not (purged.train_mask & purged.purged_mask).any() and purged.valid_mask.sum() == 4
    assert outcome_gap(purged, 12) == {"horizon_months": 12, "overlap_months": 9}
    # without a horizon every training row of a test merchant is left out
    assert purge(windows, groups, shifted, None).purged_mask.sum() == 12
