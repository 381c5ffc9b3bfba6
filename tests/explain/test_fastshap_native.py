"""The explainer's C kernels (``_fastshap_native``) give numba's contributions and margins bit for bit, on
every path of the kernels (pattern tables, the recursion, both in one model, categorical and zero-as-missing
splits, constant trees, one row, a few rows, blocks, one thread and several); the library is named by its
source and rebuilt when that changes; without a compiler, or switched off, numba's kernels run instead."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from cb_core.explain import FastTreeShap
from cb_core.explain import _fastshap_native as native
from cb_core.explain.fastshap import BLOCK_ROWS
from tests.explain.test_fastshap import make_data, reference, split_kinds, train
from tests.support.app import ROOT


def _numba(explainer: FastTreeShap, X: np.ndarray, *, parallel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """numba's contributions and margins of ``X`` from the same forest arrays."""
    from cb_core.explain._fastshap_kernels import explain_parallel, explain_serial, predict_parallel

    f = explainer._forest
    out = np.zeros((len(X), explainer.n_features + 1))
    (explain_parallel if parallel else explain_serial)(np.ascontiguousarray(X), out, BLOCK_ROWS, *f.kernel_args())
    margins = np.zeros(len(X))
    predict_parallel(np.ascontiguousarray(X), margins, f.tree_nint, f.tree_n0, f.tree_l0, f.feat, f.thr, f.kind,
                     f.default_left, f.cat_row, f.cat_mask, f.left, f.right, f.leaf_value)
    return out, margins


def _native(explainer: FastTreeShap, X: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The C kernels' contributions and margins of ``X``; the margins found by the explanation's own pass
    and by the walk alone are checked equal here, and the contributions with and without margins."""
    forest = native.NativeForest(explainer._forest)
    X = np.ascontiguousarray(X, dtype=np.float64)
    contributions, margins = forest.contributions(X, BLOCK_ROWS, threads, margins=True)
    assert np.array_equal(margins, forest.margins(X, BLOCK_ROWS, threads))
    assert np.array_equal(contributions, forest.contributions(X, BLOCK_ROWS, threads))
    return contributions, margins


@pytest.fixture(scope="module")
def deep():
    """Trees with pattern tables, with the recursion, and a model mixing both (63 leaves, 10 features)."""
    X, y = make_data(3000, n_features=10, seed=5)
    booster = train(X, y, rounds=25, num_leaves=63, min_data_in_leaf=3, learning_rate=0.1)
    rows, _ = make_data(700, n_features=10, seed=6)
    rows[:6, 0] = [-1.0, -0.5, 0.7, 99.0, 3e9, np.nan]  # categories LightGBM sends right
    rows[6:10, 1] = [1e-40, -1e-40, -0.0, np.inf]  # read as zero, or not
    return booster, rows


@pytest.fixture(autouse=True)
def c_kernels():
    """Every test here is about the C kernels. Under ``make test`` (CB_REQUIRE_NATIVE=1; scripts/test.sh
    installs gcc and builds them) a machine without them fails; elsewhere the tests say why they skip."""
    if native.library() is None:
        if os.environ.get("CB_REQUIRE_NATIVE"):
            pytest.fail("the explainer's C kernels did not build or load here (see the log of scripts/bytecode.sh)")
        pytest.skip("no C compiler here: the explainer runs numba's kernels")


@pytest.mark.parametrize("max_table_features", [16, 8, 0])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_equal_to_numba_bit_for_bit_on_every_path(deep, max_table_features, threads):
    booster, rows = deep
    explainer = FastTreeShap(booster, max_table_features=max_table_features)
    kinds = (explainer.n_table_trees > 0, explainer.n_recursive_trees > 0)
    assert kinds == {16: (True, False), 8: (True, True), 0: (False, True)}[max_table_features]
    want, want_margins = _numba(explainer, rows)
    got, got_margins = _native(explainer, rows, threads)
    assert np.array_equal(got, want) and np.array_equal(got_margins, want_margins)
    assert np.max(np.abs(got - reference(booster, rows))) <= 1e-9  # and LightGBM's to rounding


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS + 1, BLOCK_ROWS + 3])
def test_equal_to_numba_for_one_row_a_few_and_block_edges(deep, n):
    """Fewer than 4 rows in a block go row by row (another kernel), the rest vectorised: a last block of 1-3
    rows takes the row path after full blocks."""
    booster, rows = deep
    explainer = FastTreeShap(booster, max_table_features=8)
    want, want_margins = _numba(explainer, rows[:n], parallel=False)
    got, got_margins = _native(explainer, rows[:n], 2)
    assert np.array_equal(got, want) and np.array_equal(got_margins, want_margins)


@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_equal_to_numba_on_categorical_and_missing_value_splits(zero_as_missing):
    X, y = make_data(400, seed=11)
    booster = train(X, y, zero_as_missing=zero_as_missing)
    assert {"categorical", "Zero" if zero_as_missing else "NaN"} <= split_kinds(booster)
    rows, _ = make_data(600, seed=12)
    explainer = FastTreeShap(booster)
    got, want = _native(explainer, rows, 2), _numba(explainer, rows)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_constant_trees_add_their_leaf_to_the_margins():
    X, _ = make_data(200, seed=1)
    booster = train(X, np.zeros(200, dtype=int) + (np.arange(200) % 2 == 0), rounds=3, min_data_in_leaf=150)
    explainer = FastTreeShap(booster)
    assert explainer.n_trees >= 1 and explainer.n_table_trees == explainer.n_recursive_trees == 0
    for n in (2, 300):  # the row path and the block path
        rows = np.vstack([X] * 2)[:n]
        got, want = _native(explainer, rows, 2), _numba(explainer, rows)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert np.array_equal(got[1], booster.predict(rows, raw_score=True))


def test_the_explainer_uses_the_c_kernels_and_gives_what_they_give(deep):
    booster, rows = deep
    explainer = FastTreeShap(booster, max_table_features=8)
    got = explainer.contributions(rows)
    assert explainer._native is not None  # the C kernels ran
    assert np.array_equal(got, _numba(explainer, rows)[0])
    assert np.array_equal(explainer.margins(rows), booster.predict(rows, raw_score=True))
    both = explainer.contributions_and_margins(rows)
    assert np.array_equal(both[0], got) and np.array_equal(both[1], booster.predict(rows, raw_score=True))


def test_a_changed_source_gets_a_library_of_its_own(tmp_path, monkeypatch):
    """The build is named by the source's sha256 (and flags and CPU): an edited source is compiled again,
    never served by the old library; a source that does not compile says what the compiler said."""
    source = tmp_path / "_fastshap_native.c"
    source.write_bytes(native.SOURCE.read_bytes())
    monkeypatch.setattr(native, "SOURCE", source)
    first = native.build()
    assert first.is_file() and native.build() == first  # built once
    source.write_bytes(native.SOURCE.read_bytes() + b"\n/* edited */\n")
    second = native.build()
    assert second != first and second.is_file()
    source.write_bytes(b"int broken( {\n")
    with pytest.raises(RuntimeError, match=r"failed: .*error"):
        native.build()


def test_without_a_compiler_or_switched_off_numba_runs_and_says_why(tmp_path, caplog):
    """In a fresh process with no compiler on PATH and no library built for this source (the log says so),
    and with CB_NATIVE_KERNELS=0: the explainer runs numba's kernels, with the same contributions."""
    booster_file = tmp_path / "booster.txt"
    X, y = make_data(300, seed=0)
    train(X, y).save_model(str(booster_file))
    np.save(tmp_path / "rows.npy", X)
    script = f"""
import logging, sys, numpy as np, lightgbm as lgb
logging.basicConfig(level=logging.INFO)
from pathlib import Path
from cb_core.explain import FastTreeShap
from cb_core.explain import _fastshap_native as native
if sys.argv[1] == "no-compiler":
    src = Path({str(tmp_path / 'copy.c')!r}); src.write_bytes(native.SOURCE.read_bytes() + b"/* never built */")
    native.SOURCE = src
explainer = FastTreeShap(lgb.Booster(model_file={str(booster_file)!r}))
out = explainer.contributions(np.load({str(tmp_path / 'rows.npy')!r}))
assert native.library() is None and explainer._native is None and "numba" in sys.modules
np.save(sys.argv[2], out)
"""
    outs = []
    for mode, env in (("no-compiler", {"PATH": "/nonexistent", "CC": ""}), ("off", {native.ENV_SWITCH: "0"})):
        out = tmp_path / f"{mode}.npy"
        done = subprocess.run([sys.executable, "-c", script, mode, str(out)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, env={**os.environ, **env})
        assert done.returncode == 0, done.stderr[-2000:]
        reason = "explainer runs numba's kernels: the C kernels are not available (no C compiler (cc or gcc) on PATH)"
        assert (reason in done.stderr) == (mode == "no-compiler"), done.stderr[-2000:]
        outs.append(np.load(out))
    explainer = FastTreeShap(train(X, y))
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], explainer.contributions(X))
    with caplog.at_level(logging.INFO, logger=native.__name__):
        assert native._load() is not None  # here the library loads; no reason logged
    assert "not available" not in caplog.text
