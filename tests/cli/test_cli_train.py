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
