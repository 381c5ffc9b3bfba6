"""Our own reader and predictor of booster.txt (cb_core.model.trees) against LightGBM itself: the same
margins (to 1e-9; in practice bit for bit) on real rows and on every kind of awkward value, the same
``dump_model()`` structure for the explainer, and a clear ModelError for a text that is not a model."""
from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

import sys
import threading

from cb_core.errors import ConfigError, ModelError
from cb_core.explain.fastshap import FastTreeShap
from cb_core.features import current_snapshot
from cb_core.model import TreeEnsemble, _trees_fast

TOL = 1e-9


def _awkward(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """Real rows, then copies with NaN, exact zeros, values within 1e-35 of zero, huge values,
    infinities, and (categorical columns) negative, fractional and unknown codes."""
    rng = np.random.default_rng(seed)
    parts = [X]
    for value in (np.nan, 0.0, 1e-40, -1e-40, 1e300, -np.inf, np.inf, -0.5, -3.0, 2.7, 99.0):
        Y = X.copy()
        mask = rng.random(Y.shape) < 0.3
        Y[mask] = value
        parts.append(Y)
    return np.vstack(parts)


def _both_passes(ours: TreeEnsemble, rows: np.ndarray) -> np.ndarray:
    """The margins of the three passes, which must be equal bit for bit (same sums in the same order)."""
    numpy_pass = ours.raw_margin(rows, engine="numpy")
    numba_pass = ours.raw_margin(rows, engine="numba")
    native_pass = ours.raw_margin(rows, engine="native")
    assert np.array_equal(numpy_pass, numba_pass) and np.array_equal(numpy_pass, native_pass)
    return native_pass


@pytest.fixture(scope="module")
def demo(trained, small_book):
    model = trained[0]
    frame = current_snapshot(small_book)
    return model, model.matrix(frame), frame


def test_margins_equal_lightgbm_on_a_book_and_on_awkward_values(demo):
    model, X, frame = demo
    ours = TreeEnsemble(model.booster_text)
    booster = lgb.Booster(model_str=model.booster_text)
    rows = _awkward(X[:300])
    want = booster.predict(rows, raw_score=True)
    got = _both_passes(ours, rows)
    assert np.max(np.abs(got - want)) <= TOL
    assert np.array_equal(got, want)  # trees summed in LightGBM's order: bit for bit
    # the model's own scoring goes through it: margins of the book's merchants as LightGBM's
    assert np.array_equal(model.margin(frame).to_numpy(), booster.predict(X, raw_score=True))


@pytest.mark.parametrize("params", [
    {"zero_as_missing": True},  # missing type Zero
    {"use_missing": True},  # missing type NaN where the training data has NaN
    {"use_missing": False},  # missing type None
])
def test_every_missing_type_and_categorical_splits_match_lightgbm(params):
    rng = np.random.default_rng(7)
    n = 3000
    X = rng.normal(size=(n, 5))
    X[:, 3] = rng.integers(0, 12, size=n)  # categorical codes
    X[rng.random(n) < 0.2, 0] = np.nan
    X[rng.random(n) < 0.2, 1] = 0.0
    y = (X[:, 2] + (X[:, 3] % 3 == 0) + np.nan_to_num(X[:, 0]) + rng.normal(size=n) > 0.5).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 13, "verbose": -1, "min_data_in_leaf": 20,
                         "max_cat_to_onehot": 2, **params},
                        lgb.Dataset(X, y, categorical_feature=[3]), num_boost_round=25)
    text = booster.model_to_string()
    kinds = {(int(d) >> 2) & 3 for line in text.splitlines() if line.startswith("decision_type=")
             for d in line.split("=")[1].split()}
    assert kinds, "the booster has splits"
    assert any(int(d) & 1 for line in text.splitlines() if line.startswith("decision_type=")
               for d in line.split("=")[1].split()), "a categorical split"
    ours = TreeEnsemble(text)
    rows = _awkward(X[:400], seed=1)
    want = booster.predict(rows, raw_score=True)
    assert np.max(np.abs(_both_passes(ours, rows) - want)) <= TOL
    # the explainer built from our parse is the one built from LightGBM's dump
    fast_ours, fast_lgb = FastTreeShap(ours), FastTreeShap(booster)
    assert np.array_equal(fast_ours.contributions(rows), fast_lgb.contributions(rows))
    assert np.array_equal(fast_ours.margins(rows), want)
    assert np.max(np.abs(fast_ours.contributions(rows) - booster.predict(rows, pred_contrib=True))) <= TOL


def test_dump_matches_lightgbm_dump_model(demo):
    model = demo[0]
    ours = TreeEnsemble(model.booster_text).dump()
    theirs = lgb.Booster(model_str=model.booster_text).dump_model()
    assert ours["max_feature_idx"] == theirs["max_feature_idx"]
    assert ours["feature_names"] == theirs["feature_names"]

    def same(a, b, path="tree"):
        for key, value in a.items():
            assert key in b, f"{path}: LightGBM's dump has no {key}"
            if isinstance(value, dict):
                same(value, b[key], f"{path}/{key}")
            elif isinstance(value, float):
                assert value == float(b[key]), f"{path}/{key}: {value} != {b[key]}"
            else:
                assert value == b[key], f"{path}/{key}: {value!r} != {b[key]!r}"

    assert len(ours["tree_info"]) == len(theirs["tree_info"])
    for mine, lgbs in zip(ours["tree_info"], theirs["tree_info"]):
        same(mine["tree_structure"], lgbs["tree_structure"])


def test_scoring_and_explaining_a_model_never_build_the_lightgbm_booster(demo, monkeypatch):
    from cb_core.explain import score_frame

    model, _, frame = demo
    fresh = type(model)(model.booster_text, model.card)
    monkeypatch.setattr(lgb, "Booster", lambda *a, **k: pytest.fail("LightGBM's booster was built"))
    out = score_frame(fresh, frame.iloc[:20], explain=True)
    assert len(out) == 20 and fresh._booster is None


@pytest.mark.parametrize("damage, message", [
    (lambda t: t.replace("num_leaves=", "num_leaves=x", 1), "no valid num_leaves"),
    (lambda t: t.replace("leaf_value=", "leaf_value=1 ", 1), "leaf_value has"),
    (lambda t: t.replace("threshold=", "threshold=abc ", 1), "threshold holds a value that is not a number"),
    (lambda t: t.replace("left_child=", "left_child=99 ", 1), "left_child has"),
    (lambda t: t.replace("max_feature_idx=", "max_feature_idx=x", 1), "max_feature_idx"),
    (lambda t: t.replace("num_class=1", "num_class=3", 1), "single-output"),
    (lambda t: t[: t.index("end of trees")], "not a complete LightGBM model text"),
    (lambda t: t.replace("Tree=", "Tee=").replace("end of trees", "end of trees"), "no trees"),
])
def test_a_damaged_text_is_a_model_error_naming_the_problem(demo, damage, message):
    with pytest.raises(ModelError, match=message):
        TreeEnsemble(damage(demo[0].booster_text))


def test_a_child_that_points_outside_the_tree_is_refused(demo):
    text = demo[0].booster_text
    start = text.index("left_child=")
    end = text.index("\n", start)
    values = text[start + len("left_child="):end].split()
    values[0] = "40"  # no tree of 15 leaves has node 40
    with pytest.raises(ModelError, match="neither a node nor a leaf"):
        TreeEnsemble(text[:start] + "left_child=" + " ".join(values) + text[end:])


def test_wrong_matrix_shape_is_refused(demo):
    ours = TreeEnsemble(demo[0].booster_text)
    with pytest.raises(ModelError, match=f"must have {ours.n_features} columns"):
        ours.raw_margin(np.zeros((3, ours.n_features + 1)))


def test_trees_wider_than_64_leaves_match_lightgbm():
    """A blended scorecard's bins come as one tree of hundreds of leaves: walked level by level."""
    rng = np.random.default_rng(11)
    n = 6000
    X = rng.normal(size=(n, 4))
    X[:, 2] = rng.integers(0, 40, size=n)
    X[rng.random(n) < 0.1, 0] = np.nan
    X[rng.random(n) < 0.1, 1] = 0.0
    y = (X[:, 0] * X[:, 1] + np.sin(X[:, 3] * 3) + (X[:, 2] % 4 == 0) + rng.normal(size=n) > 0.3).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 200, "min_data_in_leaf": 5, "verbose": -1,
                         "zero_as_missing": False, "max_cat_to_onehot": 2},
                        lgb.Dataset(X, y, categorical_feature=[2]), num_boost_round=3)
    text = booster.model_to_string()
    assert max(int(line.split("=")[1]) for line in text.splitlines() if line.startswith("num_leaves=")) > 64
    rows = _awkward(X[:500], seed=2)
    assert np.max(np.abs(_both_passes(TreeEnsemble(text), rows) - booster.predict(rows, raw_score=True))) <= TOL


def test_big_inputs_take_the_c_pass_and_import_no_numba(demo, monkeypatch):
    model, X, _ = demo
    ours = TreeEnsemble(model.booster_text)
    rows = np.resize(X, (3 * len(X), X.shape[1]))
    monkeypatch.setattr(_trees_fast, "WARM_ROWS", len(rows))
    monkeypatch.delitem(sys.modules, "numba", raising=False)  # as in a process that never imported it
    monkeypatch.delitem(sys.modules, "cb_core.model._trees_kernel", raising=False)
    chosen = []
    real = _trees_fast.margins
    monkeypatch.setattr(_trees_fast, "margins", lambda X, flat, engine: chosen.append(engine) or real(X, flat, engine))
    small = ours.raw_margin(rows[:-1])
    assert ours._flat is None and chosen == []  # numpy below WARM_ROWS
    big = ours.raw_margin(rows)
    assert chosen == ["native"] and "numba" not in sys.modules and "cb_core.model._trees_kernel" not in sys.modules
    want = lgb.Booster(model_str=model.booster_text).predict(rows, raw_score=True)
    assert np.array_equal(big, want) and np.array_equal(small, want[:-1])


def test_without_the_c_pass_big_inputs_take_numbas_small_ones_numpy_unless_numba_is_loaded(demo, monkeypatch):
    model, X, _ = demo
    ours = TreeEnsemble(model.booster_text)
    rows = np.resize(X, (3 * len(X), X.shape[1]))
    monkeypatch.setattr(_trees_fast, "library", lambda: None)  # no C compiler here
    monkeypatch.setattr(_trees_fast, "COLD_ROWS", len(rows))
    monkeypatch.setattr(_trees_fast, "WARM_ROWS", len(rows) - 1)
    monkeypatch.delitem(sys.modules, "numba")  # as in a process that never imported it
    small = ours.raw_margin(rows[:-1])
    assert ours._flat is None  # numpy: numba not loaded and fewer rows than COLD_ROWS
    big = ours.raw_margin(rows)
    assert ours._flat is not None  # the kernel's arrays, built on the first big input
    want = lgb.Booster(model_str=model.booster_text).predict(rows, raw_score=True)
    assert np.array_equal(big, want) and np.array_equal(small, want[:-1])
    monkeypatch.undo()
    monkeypatch.setattr(_trees_fast, "library", lambda: None)
    monkeypatch.setattr(_trees_fast, "WARM_ROWS", 100)
    assert _trees_fast.engine_for(100, None) == "numba" and _trees_fast.engine_for(99, None) == "numpy"
    with pytest.raises(ConfigError, match="engine 'native' needs the C kernel") as caught:
        ours.raw_margin(X, engine="native")
    assert caught.value.key == "err_trees_native_missing"


def test_without_numba_the_numpy_pass_scores_and_a_forced_numba_pass_is_refused(demo, monkeypatch):
    model, X, _ = demo
    ours = TreeEnsemble(model.booster_text)
    monkeypatch.setitem(sys.modules, "cb_core.model._trees_kernel", None)  # its import fails
    monkeypatch.delattr(sys.modules["cb_core.model"], "_trees_kernel", raising=False)
    monkeypatch.setattr(_trees_fast, "COLD_ROWS", 1)
    monkeypatch.setattr(_trees_fast, "library", lambda: None)
    assert np.array_equal(ours.raw_margin(X), lgb.Booster(model_str=model.booster_text).predict(X, raw_score=True))
    assert ours._flat is None
    with pytest.raises(ConfigError, match="needs the numba package") as caught:
        ours.raw_margin(X, engine="numba")
    assert caught.value.key == "err_trees_numba_missing"
    with pytest.raises(ConfigError, match="engine must be one of numpy, numba, native; got 'gpu'"):
        ours.raw_margin(X, engine="gpu")


def test_numba_pass_and_explainer_from_two_threads_at_once(demo):
    model, X, _ = demo
    ours = TreeEnsemble(model.booster_text)
    rows = np.resize(X, (20 * len(X), X.shape[1]))
    want = ours.raw_margin(rows, engine="numpy")
    explainer = FastTreeShap(ours)
    contributions = explainer.contributions(rows[:2000])
    results: dict[str, list[bool]] = {"margins": [], "shap": []}

    def margins() -> None:
        results["margins"] += [np.array_equal(ours.raw_margin(rows, engine=engine), want)
                               for engine in ("numba", "native", "native", "numba", "native")]

    def shap() -> None:
        results["shap"] += [np.array_equal(explainer.contributions(rows[:2000]), contributions) for _ in range(5)]

    threads = [threading.Thread(target=margins), threading.Thread(target=shap), threading.Thread(target=margins)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"margins": [True] * 10, "shap": [True] * 5}
