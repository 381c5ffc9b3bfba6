"""FastTreeShap equals LightGBM's pred_contrib to 1e-9 on every row: missing values, zero-as-missing,
categorical splits, monotone models, deep trees (tables and recursion), the bias column."""
from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from cb_core.errors import ConfigError, ModelError
from cb_core.explain import FastTreeShap, explainer_for, pred_contrib

TOL = 1e-9
N_LEVELS = 6


def make_data(n: int, n_features: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Column 0 a category code (some missing), 1 zero-heavy, 2 with NaNs, the rest normal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    X[:, 0] = rng.integers(0, N_LEVELS, n)
    X[rng.random(n) < 0.05, 0] = np.nan
    X[:, 1] = np.where(rng.random(n) < 0.6, 0.0, np.abs(X[:, 1]) + 0.1)
    X[rng.random(n) < 0.2, 2] = np.nan
    z = (np.isin(X[:, 0], [1, 4]) * 1.2 - 0.6 + 0.9 * (X[:, 1] > 0) + np.nan_to_num(X[:, 2], nan=-1.0)
         + 0.5 * X[:, 3] * (X[:, 4] > 0))
    y = (rng.random(n) < expit(z)).astype(int)
    return X, y


def train(X: np.ndarray, y: np.ndarray, rounds: int = 30, **params) -> lgb.Booster:
    base = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.2, "min_data_in_leaf": 5,
            "min_data_per_group": 5, "cat_smooth": 1.0, "num_threads": 1, "verbose": -1, "seed": 0}
    base.update(params)
    data = lgb.Dataset(X, y, categorical_feature=[0], params=base)
    return lgb.train(base, data, num_boost_round=rounds)


def split_kinds(booster: lgb.Booster) -> set[str]:
    """Decision and missing types the model's splits use."""
    kinds: set[str] = set()

    def walk(node: dict) -> None:
        if "split_index" in node:
            kinds.add("categorical" if node["decision_type"] == "==" else node["missing_type"])
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return kinds


def leaf_pairs(booster: lgb.Booster) -> set[str]:
    """Kinds of sibling-leaf pairs: under a split on a feature new to the path, or already on it."""
    kinds: set[str] = set()

    def walk(node: dict, path: list[int]) -> None:
        if "split_index" not in node:
            return
        feature = node["split_feature"]
        if "split_index" not in node["left_child"] and "split_index" not in node["right_child"]:
            kinds.add("repeat" if feature in path else "new")
        walk(node["left_child"], path + [feature])
        walk(node["right_child"], path + [feature])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"], [])
    return kinds


def reference(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    return booster.predict(X, pred_contrib=True, num_threads=1)


def assert_equal_contrib(booster: lgb.Booster, X: np.ndarray, **kwargs) -> None:
    got = FastTreeShap(booster, **kwargs).contributions(X)
    want = reference(booster, X)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= TOL


@pytest.fixture(scope="module")
def small():
    X, y = make_data(300, seed=0)
    return train(X, y), X


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_equals_lightgbm_on_small_models(seed, zero_as_missing):
    X, y = make_data(300, seed=seed)
    booster = train(X, y, zero_as_missing=zero_as_missing)
    expected_missing = "Zero" if zero_as_missing else "NaN"
    assert {"categorical", expected_missing} <= split_kinds(booster)
    X_new, _ = make_data(200, seed=100 + seed)
    assert_equal_contrib(booster, X_new)


def test_equals_lightgbm_on_deep_model_with_tables_recursion_and_both():
    X, y = make_data(3000, n_features=10, seed=5)
    booster = train(X, y, rounds=40, num_leaves=63, min_data_in_leaf=3, learning_rate=0.1)
    assert leaf_pairs(booster) == {"new", "repeat"}
    X_new, _ = make_data(300, n_features=10, seed=6)
    full = FastTreeShap(booster)
    assert full.n_table_trees == booster.num_trees()
    mixed = FastTreeShap(booster, max_table_features=8)
    assert 0 < mixed.n_table_trees < booster.num_trees()
    assert mixed.n_recursive_trees == booster.num_trees() - mixed.n_table_trees
    recursive = FastTreeShap(booster, max_table_features=0)
    assert recursive.n_table_trees == 0
    want = reference(booster, X_new)
    for explainer in (full, mixed, recursive):
        assert np.max(np.abs(explainer.contributions(X_new) - want)) <= TOL


def test_memory_bound_sends_the_largest_trees_to_the_recursion(small, monkeypatch):
    import cb_core.explain.fastshap as fastshap

    booster, X = small
    unbounded = FastTreeShap(booster)
    monkeypatch.setattr(fastshap, "MAX_TABLE_VALUES", unbounded.table_values // 2)
    bounded = FastTreeShap(booster)
    assert 0 < bounded.n_recursive_trees < booster.num_trees()
    assert bounded.table_values <= unbounded.table_values // 2
    assert np.max(np.abs(bounded.contributions(X) - reference(booster, X))) <= TOL


def test_equals_lightgbm_on_parallel_path():
    X, y = make_data(2000, seed=8)
    booster = train(X, y, rounds=20)
    explainer = FastTreeShap(booster)
    want = reference(booster, X)
    for threads in (None, 2):
        assert np.max(np.abs(explainer.contributions(X, n_threads=threads) - want)) <= TOL


@pytest.mark.parametrize("method", ["basic", "intermediate", "advanced"])
def test_equals_lightgbm_on_monotone_model(method):
    X, y = make_data(600, seed=3)
    booster = train(X, y, rounds=30, monotone_constraints=[0, 1, -1, 1, 0],
                    monotone_constraints_method=method)
    assert_equal_contrib(booster, make_data(200, seed=4)[0])


def test_edge_values_follow_lightgbm_decisions(small):
    booster, X = small
    rows = np.repeat(X[:12], 1, axis=0).copy()
    # categories: negative, fractional, unseen, huge, infinite, missing
    rows[:8, 0] = [-1.0, -0.5, 0.7, 99.0, 3e9, np.inf, -np.inf, np.nan]
    # values LightGBM reads as zero, and exact zeros, on the zero-heavy and NaN columns
    rows[:6, 1] = [1e-40, -1e-40, 0.0, -0.0, np.nan, np.inf]
    rows[6:12, 2] = [1e-40, 0.0, np.nan, -np.inf, np.inf, -1e-36]
    assert_equal_contrib(booster, rows)


def test_bias_column_is_the_expected_value_and_rows_sum_to_the_margin(small):
    booster, X = small
    explainer = FastTreeShap(booster)
    contrib = explainer.contributions(X[:50])
    want_bias = reference(booster, X[:1])[0, -1]
    assert explainer.expected_value == pytest.approx(want_bias, abs=TOL)
    assert np.all(contrib[:, -1] == explainer.expected_value)
    margin = booster.predict(X[:50], raw_score=True)
    assert np.max(np.abs(contrib.sum(axis=1) - margin)) <= TOL


def test_single_row_and_empty_input(small):
    booster, X = small
    explainer = FastTreeShap(booster)
    one = explainer.contributions(X[7:8])
    assert one.shape == (1, 6)
    assert np.max(np.abs(one - reference(booster, X[7:8]))) <= TOL
    empty = explainer.contributions(np.empty((0, 5)))
    assert empty.shape == (0, 6)


def test_constant_trees_only_move_the_bias():
    X, _ = make_data(200, seed=1)
    booster = train(X, np.zeros(200, dtype=int) + (np.arange(200) % 2 == 0), rounds=3, min_data_in_leaf=150)
    assert split_kinds(booster) == set()
    assert_equal_contrib(booster, X[:20])


def test_wrong_inputs_say_what_was_expected(small):
    booster, X = small
    explainer = FastTreeShap(booster)
    with pytest.raises(ConfigError, match=r"X must have 5 columns \(the model's features\); got 4"):
        explainer.contributions(X[:, :4])
    with pytest.raises(ConfigError, match=r"X must be 2-D \(rows x 5 features\); got 1-D"):
        explainer.contributions(X[0])
    with pytest.raises(ConfigError, match="X must be a numeric matrix"):
        explainer.contributions([["a", "b", "c", "d", "e"]])
    with pytest.raises(ConfigError, match="n_threads must be a whole number within 1–"):
        explainer.contributions(np.vstack([X] * 2), n_threads=0)
    with pytest.raises(ConfigError, match="max_table_features must be a whole number within 0–20; got 30"):
        FastTreeShap(booster, max_table_features=30)
    with pytest.raises(ConfigError, match="booster must be a lightgbm.Booster; got str"):
        FastTreeShap("booster.txt")


def test_multiclass_models_are_refused():
    X, _ = make_data(300, seed=2)
    y = np.arange(300) % 3
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 4, "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, y, params=params), num_boost_round=2)
    with pytest.raises(ModelError, match="one output per row.*got a model with 3 trees per iteration"):
        FastTreeShap(booster)


def test_credit_model_drop_in_matches_booster_predict():
    from cb_core.model import train_model

    rng = np.random.default_rng(4)
    n = 900
    X, y = make_data(n, seed=4)
    frame = pd.DataFrame({
        "category": pd.Categorical.from_codes(np.nan_to_num(X[:, 0], nan=-1).astype(int),
                                              categories=[f"c{i}" for i in range(N_LEVELS)]),
        "return_rate_6m": X[:, 1], "gmv_yoy": X[:, 2], "my_signal": X[:, 3], "other_signal": X[:, 4],
    }, index=pd.Index([f"m{i:04d}" for i in range(n)], name="merchant_id"))
    months = pd.Series(rng.permutation(np.repeat([f"2024-{m:02d}" for m in range(1, 7)], n // 6)), index=frame.index)
    model = train_model(frame, pd.Series(y, index=frame.index), time=months,
                        params={"learning_rate": 0.2, "num_boost_round": 40, "early_stopping_rounds": 10,
                                "min_data_in_leaf": 10, "num_threads": 1})
    want = model.booster_predict(model.matrix(frame), pred_contrib=True)
    got = pred_contrib(model, frame)
    assert got.shape == want.shape == (n, len(model.features) + 1)
    assert np.max(np.abs(got - want)) <= TOL
    row = frame.iloc[5]
    assert np.max(np.abs(pred_contrib(model, row) - model.booster_predict(model.matrix(row), pred_contrib=True))) <= TOL
    assert explainer_for(model) is explainer_for(model)
