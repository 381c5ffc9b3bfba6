"""The ``score`` command's path (issue #15): what it imports, that its output is LightGBM's (scores
and points as the booster itself gives them), that Parquet read column by column is the same table,
and that a bad book still gets the full validation report."""
from __future__ import annotations

import shutil

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from cb_core.cli import main
from cb_core.data import read_book, write_book
from cb_core.explain import contributions_to_points
from cb_core.features import current_snapshot
from tests.support.app import ROOT
from tests.support.imports import imported_packages

BAD = ROOT / "tests" / "bad_inputs"


@pytest.fixture(scope="module")
def folders(trained, small_book, tmp_path_factory):
    root = tmp_path_factory.mktemp("score")
    model_dir = trained[0].save(root / "model")
    return write_book(small_book, root / "book"), model_dir, root


def _imported(*args: str) -> set[str]:
    return imported_packages(*args)


def test_score_imports_neither_lightgbm_nor_sklearn_nor_numba(folders):
    book, model, root = folders
    loaded = _imported("score", "--model", str(model), "--data", str(book), "--out", str(root / "s.parquet"))
    assert {"cb_core", "pandas", "pyarrow"} <= loaded  # the report is real
    assert not loaded & {"lightgbm", "sklearn", "numba", "shap", "pandera"}, loaded


def test_score_explain_imports_numba_but_neither_lightgbm_nor_sklearn(folders):
    book, model, root = folders
    loaded = _imported("score", "--model", str(model), "--data", str(book), "--out", str(root / "e.parquet"),
                       "--explain")
    assert "numba" in loaded
    assert not loaded & {"lightgbm", "sklearn", "shap", "pandera"}, loaded


def test_score_explain_output_is_lightgbms_scores_and_points(folders, trained, small_book, capsys):
    book, model_dir, root = folders
    out = root / "explained.parquet"
    assert main(["score", "--model", str(model_dir), "--data", str(book), "--out", str(out), "--explain"]) == 0
    got = pd.read_parquet(out).set_index("merchant_id")
    # the reference, independently: LightGBM's own predict and pred_contrib on the same rows
    model = trained[0]
    features = current_snapshot(small_book)
    booster = lgb.Booster(model_str=model.booster_text)
    matrix = model.matrix(features)
    want = model.score_margin(booster.predict(matrix, raw_score=True), features.index)
    points = contributions_to_points(model, booster.predict(matrix, pred_contrib=True), features.index)
    assert got.index.equals(features.index)
    assert (got["score"] == want["score"]).all() and (got["grade"] == want["grade"]).all()
    assert np.array_equal(got["pd"].to_numpy(), want["pd"].to_numpy())  # same margins, bit for bit
    assert np.max(np.abs(got[points.columns].to_numpy() - points.to_numpy())) <= 1e-9
    # points add up to the score before rounding and clipping, to display precision
    total = got[points.columns].sum(axis=1)
    assert (np.clip(np.round(total), 1, 1000) == got["score"]).mean() > 0.999


def test_parquet_read_column_by_column_is_the_same_table(folders, monkeypatch):
    from cb_core.data import _files

    book = folders[0]
    whole = read_book(book)
    monkeypatch.setattr(_files, "COLUMNWISE_BYTES", 0)  # every file column by column
    by_column = read_book(book)
    for name, frame in whole.tables().items():
        pd.testing.assert_frame_equal(by_column.tables()[name], frame, check_exact=True)
    assert by_column.fingerprint == whole.fingerprint


def test_a_parquet_file_with_an_index_column_is_read_whole_as_before(tmp_path, monkeypatch):
    from cb_core.data import _files, read_table

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}, index=pd.Index(["p", "q", "r"], name="key"))
    frame.to_parquet(tmp_path / "t.parquet")
    monkeypatch.setattr(_files, "COLUMNWISE_BYTES", 0)
    got = read_table(tmp_path / "t.parquet")
    assert list(got.columns) == ["key", "a", "b"] and got["key"].tolist() == ["p", "q", "r"]


def test_a_truncated_parquet_file_is_named_without_reading_it(tmp_path):
    from cb_core.data import read_table
    from cb_core.errors import DataSourceError

    pd.DataFrame({"a": range(100)}).to_parquet(tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataSourceError, match=r"t\.parquet is not a complete Parquet file"):
        read_table(tmp_path / "t.parquet")


def test_a_bad_book_gets_the_full_validation_report_from_score(folders, tmp_path, capsys):
    model_dir = folders[1]
    book = tmp_path / "bad"
    shutil.copytree(BAD / "duplicate_key", book)
    assert main(["validate", str(book)]) == 2
    report = capsys.readouterr().err
    assert main(["score", "--model", str(model_dir), "--data", str(book), "--out", str(tmp_path / "o.parquet"),
                 "--explain"]) == 2
    said = capsys.readouterr().err
    assert "duplicate" in report and report.strip() in said
    assert not (tmp_path / "o.parquet").exists()


def test_a_wrong_out_suffix_is_refused_before_any_work(tmp_path, capsys):
    """Before the model is read (a 1,000,000-merchant score takes 10 s): the message names --out, not the model."""
    code = main(["score", "--model", str(tmp_path / "no-model"), "--data", str(tmp_path / "no-book"),
                 "--out", str(tmp_path / "scores.xlsx")])
    err = capsys.readouterr().err
    assert code == 2 and "--out must end in .csv or .parquet; got scores.xlsx" in err
    assert "model folder not found" not in err and not (tmp_path / "scores.xlsx").exists()
