"""``python -m cb_core train`` on a bring-your-own table: windows, nested folds, seed (in process)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cb_core.cli.commands import main as cli_main


def own_table(n=1200, seed=3, periods=None):
    """A lender's own table: a strong signal, noise, an id and a 'bad' outcome."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(0, 1, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.2 + 1.4 * signal)))).astype(int)
    table = pd.DataFrame({"loan_id": [f"L{i}" for i in range(n)], "signal": signal,
                          "noise": rng.normal(0, 1, n), "bad": y})
    if periods is not None:
        table["period"] = rng.choice(periods, n)
    return table


def _train(capsys, *args):
    code = cli_main(["train", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_folds_and_seed_drive_nested_cross_validation(tmp_path, capsys):
    path = tmp_path / "own.csv"
    own_table().to_csv(path, index=False)
    printed = _train(capsys, "--table", str(path), "--target", "bad", "--id", "loan_id", "--folds", "3",
                     "--seed", "4", "--out", str(tmp_path / "m"))
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["validation"]["method"] == printed["validation"] == "nested_cv"
    assert card["validation"]["n_folds"] == 3 and card["validation"]["seed"] == 4 and card["params"]["seed"] == 4
    assert len(card["validation"]["folds"]) == 3
    assert printed["ece"] == pytest.approx(card["metrics"]["ece"], abs=1e-6) and printed["auc"] > 0.75
    assert printed["windows"]["test"]["rows"] == 1200


def test_integer_periods_sort_as_numbers(tmp_path, capsys):
    """Periods 1-12 read as text would put 10-12 before 2: the test window must be the latest."""
    path = tmp_path / "own.csv"
    own_table(2400, periods=list(range(1, 13))).to_csv(path, index=False)
    printed = _train(capsys, "--table", str(path), "--target", "bad", "--time", "period", "--out", str(tmp_path / "m"))
    w = printed["windows"]
    assert w["test"]["periods"][-1] == "12" and "12" not in w["train"]["periods"] + w["valid"]["periods"]
    assert [int(p) for p in w["train"]["periods"] + w["valid"]["periods"] + w["test"]["periods"]] == list(range(1, 13))


def test_year_months_and_dates_sort_in_time_order():
    from cb_core.model import sorted_periods, time_windows

    assert sorted_periods(["2024-10", "2024-09", "2023-12"]) == ["2023-12", "2024-09", "2024-10"]
    dates = ["2024-02-01", "2023-12-31", "2024-01-15", "2024-03-01"] * 5
    w = time_windows(dates)
    assert w.order == "date" and w.test_periods == ["2024-03-01"] and w.train_periods == ["2023-12-31", "2024-01-15"]
    assert sorted_periods([10, 9, 2, 1]) == [1, 2, 9, 10]


def test_true_false_columns_with_blanks_are_encoded_and_used(tmp_path, capsys):
    """A strong flag planted in a True/False column with blanks, in a number column and in a text column."""
    rng = np.random.default_rng(7)
    n = 1500
    flag, level, kind = rng.random(n) < 0.3, rng.normal(0, 1, n), rng.choice(["A", "B"], n)
    z = -2.5 + 2.0 * flag + 1.2 * level + 1.5 * (kind == "B")
    table = pd.DataFrame({"loan_id": range(n), "flag": pd.Series(flag, dtype=object), "level": level, "kind": kind,
                          "bad": (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)})
    table.loc[rng.random(n) < 0.1, "flag"] = None  # blanks
    path = tmp_path / "own.csv"
    table.to_csv(path, index=False)
    _train(capsys, "--table", str(path), "--target", "bad", "--id", "loan_id", "--out", str(tmp_path / "m"))
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    kinds = {f["name"]: f["kind"] for f in card["features"]}
    assert kinds == {"flag": "numeric", "level": "numeric", "kind": "categorical"}
    from cb_core.model import load_model, typed_table
    from cb_core.data import read_table

    model = load_model(tmp_path / "m")
    X = typed_table(read_table(path).set_index("loan_id")).drop(columns=["bad"])
    assert X["flag"].isna().sum() == int(table["flag"].isna().sum()) and set(X["flag"].dropna()) == {0.0, 1.0}
    base = X.iloc[:200].assign(level=0.0, kind="A")
    for column, low, high in (("flag", 0.0, 1.0), ("level", -1.0, 1.0), ("kind", "A", "B")):
        gap = model.predict_pd(base.assign(**{column: high})) - model.predict_pd(base.assign(**{column: low}))
        assert (gap > 0.01).mean() > 0.9, column  # the model uses each planted signal
    scored = tmp_path / "s.csv"
    assert cli_main(["score", "--model", str(tmp_path / "m"), "--data", str(path), "--id", "loan_id",
                     "--out", str(scored)]) == 0
    capsys.readouterr()
    assert np.allclose(pd.read_csv(scored)["pd"].to_numpy(), model.predict_pd(X).to_numpy())


def test_a_stray_word_or_dates_stop_with_the_column_and_values(tmp_path, capsys):
    table = own_table(300)
    table["amount"] = table["signal"].round(3).astype(str)
    table.loc[[5, 17], "amount"] = ["n/a", "unknown"]
    table["opened"] = pd.date_range("2020-01-01", periods=300, freq="D").strftime("%Y-%m-%d")
    path = tmp_path / "own.csv"
    table.to_csv(path, index=False)
    assert cli_main(["train", "--table", str(path), "--target", "bad", "--id", "loan_id", "--out",
                     str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "column 'amount' holds numbers except 2 value(s) ['n/a', 'unknown']" in err
    assert "column 'opened' holds dates (e.g. '2020-01-01')" in err
    assert not (tmp_path / "m").exists()


def test_text_target_needs_bad_value(tmp_path, capsys):
    table = own_table(1200)
    table["bad"] = np.where(table["bad"] == 1, "bad", "good")
    path = tmp_path / "own.csv"
    table.to_csv(path, index=False)
    assert cli_main(["train", "--table", str(path), "--target", "bad", "--out", str(tmp_path / "m")]) == 2
    assert "give --bad-value VALUE" in capsys.readouterr().err
    printed = _train(capsys, "--table", str(path), "--target", "bad", "--bad-value", "bad", "--folds", "3",
                     "--out", str(tmp_path / "m"))
    assert printed["windows"]["test"]["bads"] == int((table["bad"] == "bad").sum()) and printed["auc"] > 0.75


def test_any_column_name_and_cp949_tables(tmp_path, capsys):
    table = own_table(1200).rename(columns={"signal": "monthly sales: KRW", "noise": "매출 변동"})
    table.insert(0, "Unnamed: 0", range(len(table)))
    path = tmp_path / "own.csv"
    path.write_bytes(table.to_csv(index=False).encode("cp949"))
    printed = _train(capsys, "--table", str(path), "--target", "bad", "--id", "loan_id", "--folds", "3",
                     "--out", str(tmp_path / "m"))
    from cb_core.model import load_model

    model = load_model(tmp_path / "m")
    assert model.features == ["Unnamed: 0", "monthly sales: KRW", "매출 변동"] and printed["auc"] > 0.75
    assert cli_main(["score", "--model", str(tmp_path / "m"), "--data", str(path), "--id", "loan_id", "--explain",
                     "--out", str(tmp_path / "s.csv")]) == 0


def test_catalog_constraints_apply_to_tables_only_when_asked(tmp_path, capsys):
    table = own_table(1200).rename(columns={"signal": "bureau_score"})
    path = tmp_path / "own.csv"
    table.to_csv(path, index=False)
    _train(capsys, "--table", str(path), "--target", "bad", "--id", "loan_id", "--folds", "3",
           "--out", str(tmp_path / "m"))
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["monotone_constraints"] == {"bureau_score": 0, "noise": 0}
    assert all(f["catalog"] is None or f["catalog"]["source"] == "table" for f in card["features"])
    (tmp_path / "c.json").write_text(json.dumps({"bureau_score": 1}))
    _train(capsys, "--table", str(path), "--target", "bad", "--id", "loan_id", "--folds", "3",
           "--constraints", str(tmp_path / "c.json"), "--out", str(tmp_path / "m2"))
    card = json.loads((tmp_path / "m2" / "card.json").read_text())
    assert card["monotone_constraints"] == {"bureau_score": 1, "noise": 0}


def test_small_tables_choose_their_model_inside_each_outer_fold(tmp_path, capsys):
    """An additive truth on a small table: every candidate is scored by cross-validation inside the
    training rows, and the card names the choice and each candidate's inner AUC."""
    path = tmp_path / "own.csv"
    own_table(1000, seed=9).to_csv(path, index=False)
    printed = _train(capsys, "--table", str(path), "--target", "bad", "--id", "loan_id", "--folds", "3",
                     "--out", str(tmp_path / "m"))
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    choice = card["validation"]["model_choice"]
    assert set(choice["candidates"]) == {"lightgbm", "woe_scorecard", "blend"}
    aucs = {n: c["inner_auc"] for n, c in choice["candidates"].items()}
    best = max(aucs.values())  # the simplest candidate within the tolerance of the best
    assert choice["chosen"] == next(n for n in ("woe_scorecard", "lightgbm", "blend") if aucs[n] >= best - 0.002)
    assert all(len(c["outer_folds_inner_auc"]) == 3 for c in choice["candidates"].values())
    assert sum(c["chosen_in_folds"] for c in choice["candidates"].values()) == 3
    assert [f["model"] for f in card["validation"]["folds"]] == [
        next(n for n in ("woe_scorecard", "lightgbm", "blend")
             if f["inner_auc"][n] >= max(f["inner_auc"].values()) - 0.002) for f in card["validation"]["folds"]]
    assert printed["auc"] > 0.75
    # points stay additive whichever model wins
    assert cli_main(["score", "--model", str(tmp_path / "m"), "--data", str(path), "--id", "loan_id", "--explain",
                     "--out", str(tmp_path / "s.csv")]) == 0
    scored = pd.read_csv(tmp_path / "s.csv")
    total = scored.filter(like="points__").sum(axis=1) + scored["base_points"]
    assert (np.abs(np.clip(np.round(total), 1, 1000) - scored["score"]) <= 0).all()
