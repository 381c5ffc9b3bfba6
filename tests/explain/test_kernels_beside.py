"""kernels_beside: the explainer and its kernels (C, or numba's) load on a thread of their own while the features
are computed (issue #15), only when the scoring will use them, and a failure there is left to the scoring itself."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

import numpy as np

from cb_core.explain import kernels_beside
from cb_core.model import COLD_ROWS
from tests.support.app import ROOT


def test_nothing_loads_for_a_scoring_that_uses_numpy_only(trained):
    model = trained[0]
    assert kernels_beside(model, COLD_ROWS - 1, explain=False) is None


def test_the_thread_loads_the_kernels_and_the_explainer_and_the_scores_do_not_change(trained, small_book, tmp_path):
    """In a fresh process: the C kernels are not loaded before, are after the thread ends (and numba is not
    imported: the tables come from the model's folder), the explainer is then the one score_frame uses, and
    the explained frame is the one of a process without the thread."""
    from cb_core.features import current_snapshot

    model, X = trained[0], current_snapshot(small_book)
    folder = model.save(tmp_path / "model")
    X.to_parquet(tmp_path / "x.parquet")
    script = f"""
import sys
import pandas as pd
from cb_core.explain import kernels_beside, score_frame
from cb_core.model import load_model
model = load_model({str(folder)!r})
X = pd.read_parquet({str(tmp_path / 'x.parquet')!r})
if sys.argv[1] == "beside":
    assert "cb_core.explain._fastshap_native" not in sys.modules
    thread = kernels_beside(model, len(X), explain=True)
    thread.join()
    from cb_core.explain import fastshap, _fastshap_native
    assert thread.name == "cb-kernels-load" and model.version in fastshap._CACHE
    assert _fastshap_native._loaded[0] is not None and fastshap._CACHE[model.version]._native is not None
    assert "numba" not in sys.modules
elif sys.argv[1] == "plain":
    assert "numba" not in sys.modules
score_frame(model, X, explain=True).to_parquet(sys.argv[2])
"""
    for mode in ("tables", "beside", "plain"):  # the first builds the model's tables and keeps them in its folder
        done = subprocess.run([sys.executable, "-c", script, mode, str(tmp_path / f"{mode}.parquet")], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    import pandas as pd

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "beside.parquet"), pd.read_parquet(tmp_path / "plain.parquet"))
    assert np.isfinite(pd.read_parquet(tmp_path / "plain.parquet")["score"]).all()


def test_a_model_the_kernels_cannot_take_is_left_to_the_scoring(caplog):
    class NoTrees:
        version = "broken"

        @property
        def trees(self):
            raise RuntimeError("no trees in this model")

    escaped = []
    previous = threading.excepthook
    threading.excepthook = escaped.append
    try:
        with caplog.at_level(logging.DEBUG, logger="cb_core.explain.scoring"):
            thread = kernels_beside(NoTrees(), COLD_ROWS, explain=False)
            thread.join(30)
    finally:
        threading.excepthook = previous
    assert not thread.is_alive() and escaped == []
    assert "kernels not preloaded" in caplog.text


def test_lean_loading_leaves_scipy_linalg_and_numba_whole(trained, tmp_path):
    """``lean``, with numba's kernels (CB_NATIVE_KERNELS=0): numba's numpy support loads without scipy.linalg;
    afterwards scipy.linalg still imports in full in the same process, and numba's np.dot (its own loop now)
    gives numpy's value."""
    folder = trained[0].save(tmp_path / "model")
    script = f"""
import sys
import numpy as np
from cb_core.explain import kernels_beside
from cb_core.model import load_model
kernels_beside(load_model({str(folder)!r}), 10, explain=True, lean=True).join()
assert "numba.np.arraymath" in sys.modules and "scipy.linalg" not in sys.modules
assert "scipy.linalg.cython_blas" not in sys.modules  # the refusal is gone
import scipy.linalg
from scipy.linalg import cython_blas
assert cython_blas.__name__ == "scipy.linalg.cython_blas" and scipy.linalg.cython_blas is cython_blas
import numba
x, y = np.arange(1.0, 6.0), np.arange(2.0, 7.0)
assert numba.njit(lambda a, b: np.dot(a, b))(x, y) == 70.0 == float(x @ y)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CB_NATIVE_KERNELS": "0"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
