"""Commands that need no model do not import the model libraries (issue #15): measured in a real
``python -X importtime -m cb_core ...`` process, whose report names every module it imported."""
from __future__ import annotations

import pytest

from cb_core.data import write_book
from cb_core.synth import generate_book
from tests.support.imports import imported_modules, imported_packages

MODEL_LIBRARIES = {"sklearn", "lightgbm", "numba", "shap", "scipy"}


def _imported(*args: str) -> set[str]:
    return imported_packages(*args, codes=(0, 2))


def _modules(*args: str, env: dict | None = None) -> set[str]:
    return imported_modules(*args, env=env, codes=(0, 2))


@pytest.fixture(scope="module")
def book_folder(tmp_path_factory):
    return write_book(generate_book(40, 6, seed=3), tmp_path_factory.mktemp("lean") / "book")


def test_validate_imports_no_model_library_and_not_pandera(book_folder):
    loaded = _imported("validate", str(book_folder))
    assert "cb_core" in loaded and "pandas" in loaded  # the report is real
    assert not loaded & MODEL_LIBRARIES, loaded & MODEL_LIBRARIES
    assert "pandera" not in loaded


def test_help_imports_no_model_library():
    loaded = _imported("--help")
    assert not loaded & (MODEL_LIBRARIES | {"pandas", "pandera"})


def test_score_imports_no_model_library_and_explain_adds_numba_only_for_a_new_model(book_folder, trained, tmp_path):
    """Scoring walks the model's own trees with numpy (numba from 200,000 rows): no scipy (the PD of a
    log-odds is numpy's), no LightGBM. ``--explain`` on a model explained for the first time builds its
    pattern tables with numba (and keeps them in its folder), importing nothing of training, not even
    scipy.linalg (numba's BLAS check for np.dot, refused there: kernels_beside's ``lean``); from then on
    it imports no model library at all (the C kernels); with them switched off, numba again."""
    model = trained[0].save(tmp_path / "model")
    loaded = _imported("score", "--model", str(model), "--data", str(book_folder), "--out", str(tmp_path / "s.csv"))
    assert "cb_core" in loaded and "pandas" in loaded and (tmp_path / "s.csv").is_file()
    assert not loaded & MODEL_LIBRARIES, loaded & MODEL_LIBRARIES
    explain = ("score", "--model", str(model), "--data", str(book_folder), "--explain", "--out")
    first = _modules(*explain, str(tmp_path / "e1.csv"))
    kept = _modules(*explain, str(tmp_path / "e2.csv"))
    off = _modules(*explain, str(tmp_path / "e3.csv"), env={"CB_NATIVE_KERNELS": "0"})
    for modules in (first, kept, off):
        loaded = {n.split(".")[0] for n in modules}
        assert "scipy.linalg" not in modules  # (-X importtime also lists the refused scipy.linalg.cython_blas)
        assert not loaded & {"sklearn", "lightgbm", "shap"}, loaded & {"sklearn", "lightgbm", "shap"}
    assert (model / "fastshap_tables.npz").is_file() and "numba" in {n.split(".")[0] for n in first}
    assert not {n.split(".")[0] for n in kept} & MODEL_LIBRARIES  # the C kernels, the tables from the folder
    assert "cb_core.explain._fastshap_native" in kept
    assert "numba.np.arraymath" in off  # numba's kernels when asked for
    frames = [(tmp_path / f"e{i}.csv").read_text() for i in (1, 2, 3)]
    assert frames[0] == frames[1] == frames[2]
