"""Book -> model -> scores end to end: additivity on every merchant, oracle gap, CLI train/score."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cb_core.errors import ModelError
from cb_core.explain import points_by_feature
from cb_core.features import current_snapshot, training_table
from tests.support.app import ROOT


def test_score_is_base_plus_points_for_every_merchant(small_book, trained):
    model, _ = trained
    snap = current_snapshot(small_book)
    pts = points_by_feature(model, snap)
    a, b = model.calibration
    unclipped = model.scale.offset - model.scale.factor * (a * model.margin(snap).to_numpy() + b)
    np.testing.assert_allclose(pts.sum(axis=1).to_numpy(), unclipped, rtol=0, atol=1e-6)
    scores = model.score(snap)["score"].to_numpy()
    np.testing.assert_array_equal(scores, np.clip(np.round(unclipped), 1, 1000))
    assert len(pts) == len(snap) > 1000


def test_training_table_uses_snapshot_months_only(small_book):
    X, y, time, true_pd, merchant_id = training_table(small_book)
    assert len(X) == len(y) == len(time) == len(merchant_id) == len(true_pd)
    assert set(time) == set(small_book.outcomes["snapshot_month"])
    assert y.isin([0, 1]).all()
    # the features of a row are the snapshot as of its own month
    from cb_core.features import snapshot

    month = sorted(set(time))[0]
    rows = (time == month).to_numpy()
    expected = snapshot(small_book.merchants, small_book.activity, month).loc[merchant_id[rows]]
    pd.testing.assert_frame_equal(X[rows].reset_index(drop=True), expected.reset_index(drop=True))


def test_book_without_outcomes_cannot_train(small_book):
    from dataclasses import replace

    with pytest.raises(ModelError, match="the book has no outcomes table"):
        training_table(replace(small_book, outcomes=None, _fingerprint=None))


@pytest.mark.slow
def test_demo_book_auc_within_002_of_oracle():
    """The default demo book (20,000 merchants, seed 7): out-of-time AUC vs the true PD's AUC."""
    from cb_core.model import train_model
    from cb_core.synth import generate_book

    book = generate_book(20_000, 24, seed=7)
    X, y, time, true_pd, _ = training_table(book)
    model = train_model(X, y, time=time, oracle_pd=true_pd)
    m = model.card["metrics"]
    assert m["oracle_auc"] - m["auc"] < 0.02, m
    assert m["auc"] > 0.75


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cb_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_cli_train_and_score_a_book(tmp_path, small_book):
    from cb_core.data import write_book

    book_dir = write_book(small_book, tmp_path / "book")
    r = _cli("train", "--data", str(book_dir), "--out", str(tmp_path / "model"))
    assert r.returncode == 0, r.stderr
    metrics = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(metrics) >= {"auc", "gini", "ks", "brier", "ece", "oracle_auc"}
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    assert metrics["windows"] == {w: {k: card["validation"][w][k] for k in ("periods", "rows", "bads")}
                                  for w in ("train", "valid", "test")}
    assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1, abs=1e-5)
    out = tmp_path / "scores.parquet"
    r = _cli("score", "--model", str(tmp_path / "model"), "--data", str(book_dir), "--out", str(out), "--explain")
    assert r.returncode == 0, r.stderr
    scores = pd.read_parquet(out)
    assert {"merchant_id", "pd", "score", "grade", "base_points", "points__return_rate_6m"} <= set(scores.columns)
    points = scores.filter(like="points__").sum(axis=1) + scores["base_points"]
    assert (np.abs(np.clip(np.round(points), 1, 1000) - scores["score"]) <= 0).all()
    assert scores["score"].between(1, 1000).all() and scores["grade"].between(1, 10).all()


def test_cli_bring_your_own_table_with_and_without_time(tmp_path, small_book):
    X, y, time, _, merchant_id = training_table(small_book)
    table = X[["gmv_3m_avg_krw", "return_rate_6m", "dispute_rate_6m", "bureau_score", "category"]].copy()
    table["category"] = table["category"].astype(str)
    table.insert(0, "loan_id", [f"L{i}" for i in range(len(table))])
    table["period"] = time.to_numpy()
    table["bad"] = y.to_numpy()
    path = tmp_path / "own.csv"
    table.to_csv(path, index=False)
    with_time = _cli("train", "--table", str(path), "--target", "bad", "--id", "loan_id", "--time", "period",
                     "--out", str(tmp_path / "m1"))
    assert with_time.returncode == 0, with_time.stderr
    printed = json.loads(with_time.stdout)
    assert printed["validation"] == "out_of_time" and "ece" in printed
    assert printed["windows"]["test"]["periods"] == [max(time)]
    # without --time the period column would be a feature: a date column is refused, so it goes
    table.drop(columns=["period"]).to_csv(path, index=False)
    kfold = _cli("train", "--table", str(path), "--target", "bad", "--id", "loan_id", "--out", str(tmp_path / "m2"))
    assert kfold.returncode == 0, kfold.stderr
    m2 = json.loads(kfold.stdout)
    assert m2["validation"] == "nested_cv" and 0.6 < m2["auc"] <= 1 and 0 <= m2["ece"] < 0.05
    r = _cli("score", "--model", str(tmp_path / "m2"), "--data", str(path), "--id", "loan_id",
             "--out", str(tmp_path / "s.csv"))
    assert r.returncode == 0, r.stderr
    scored = pd.read_csv(tmp_path / "s.csv")
    assert list(scored.columns[:4]) == ["loan_id", "pd", "score", "grade"] and len(scored) == len(table)


def test_cli_errors_exit_2(tmp_path, small_book):
    path = tmp_path / "own.csv"
    pd.DataFrame({"x": [1, 2, 3], "bad": [0, 1, 0]}).to_csv(path, index=False)
    r = _cli("train", "--table", str(path), "--target", "default_flag", "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "no column(s) default_flag" in r.stderr
    r = _cli("score", "--model", str(tmp_path / "nomodel"), "--data", str(path), "--out", str(tmp_path / "s.csv"))
    assert r.returncode == 2 and "nomodel" in r.stderr
