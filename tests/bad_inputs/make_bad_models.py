"""Model-folder cases of the bad-input corpus (``MODEL_CASES``), built at test time by
:func:`write_model_cases`: a trained LightGBM model text embeds the library version, so these bytes
are not committed (see ``make_bad_inputs``).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Callable

import pandas as pd

def _tiny_model(features: dict[str, object], seed: int = 0):
    """A tiny model on a seeded synthetic feature table (400 rows, 3 folds, one thread)."""
    import numpy as np

    from cb_core.model.credit_model import train_model

    rng = np.random.default_rng(seed)
    n = 400
    columns = {name: make(rng, n) for name, make in features.items()}
    X = pd.DataFrame(columns, index=pd.Index([f"m{i:04d}" for i in range(n)], name="merchant_id"))
    signal = sum(np.asarray(pd.to_numeric(c, errors="coerce"), dtype=float) for c in columns.values()
                 if not isinstance(c, pd.Categorical))
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-(signal - np.mean(signal))))).astype(int), index=X.index)
    params = {"num_boost_round": 20, "early_stopping_rounds": 5, "num_threads": 1, "min_data_in_leaf": 20,
              "min_data_per_group": 20}
    return train_model(X, y, params=params, n_folds=3, seed=seed)


def _normal(rng, n):
    return rng.normal(0, 1, n)


def _categories(rng, n):
    return pd.Categorical(rng.choice(["food", "fashion", "pets"], n))


#: A model a merchant book can be scored with (catalog features, their catalog kinds).
BOOK_FEATURES = {"return_rate_6m": _normal, "months_active": _normal, "category": _categories}


def _write_model(folder: Path, model) -> Path:
    model.save(folder)
    return folder


def _edit(folder: Path, name: str, change: Callable[[bytes], bytes | None]) -> None:
    content = change((folder / name).read_bytes())
    if content is None:
        (folder / name).unlink()
    else:
        (folder / name).write_bytes(content)


def _drop_calibration(content: bytes) -> bytes:
    card = json.loads(content)
    del card["calibration"]
    return json.dumps(card).encode()


MODEL_CASES: dict[str, Callable[[Path, Path], None]] = {
    # case -> writer(folder to make, a valid model folder to start from)
    "model_other_feature_set": lambda out, good: _write_model(out, _tiny_model(
        {"return_rate_6m": _normal, "my_signal": _normal, "loan_count": _normal}, seed=1)),
    "model_feature_kind_differs": lambda out, good: _write_model(out, _tiny_model(
        {"return_rate_6m": _normal, "category": lambda rng, n: rng.integers(0, 3, n).astype(float)}, seed=2)),
    "model_booster_truncated": lambda out, good: (shutil.copytree(good, out), _edit(out, "booster.txt",
                                                                                   lambda b: b[: len(b) // 2])),
    "model_booster_edited": lambda out, good: (shutil.copytree(good, out), _edit(out, "booster.txt", lambda b: re.sub(
        rb"leaf_value=\S+", b"leaf_value=0.5", b, count=1))),
    "model_booster_binary": lambda out, good: (shutil.copytree(good, out), _edit(out, "booster.txt",
                                                                                lambda b: bytes(range(256)) * 4)),
    "model_card_not_json": lambda out, good: (shutil.copytree(good, out), _edit(out, "card.json",
                                                                               lambda b: b[: len(b) // 2])),
    "model_card_lacks_calibration": lambda out, good: (shutil.copytree(good, out),
                                                       _edit(out, "card.json", _drop_calibration)),
    "model_missing_booster": lambda out, good: (shutil.copytree(good, out), _edit(out, "booster.txt",
                                                                                 lambda b: None)),
    "model_empty_folder": lambda out, good: out.mkdir(),
    "model_is_a_file": lambda out, good: out.write_bytes((good / "card.json").read_bytes()),
}


def write_model_cases(out_dir: Path) -> dict[str, Path]:
    """Train the valid tiny model into ``out_dir/model_valid`` and derive every model case from it.

    Returns
    -------
    dict
        ``model_valid`` and each case of :data:`MODEL_CASES` -> its path under ``out_dir``.
    """
    out_dir = Path(out_dir)
    good = _write_model(out_dir / "model_valid", _tiny_model(BOOK_FEATURES))
    written = {"model_valid": good}
    for case, write in MODEL_CASES.items():
        write(out_dir / case, good)
        written[case] = out_dir / case
    return written
