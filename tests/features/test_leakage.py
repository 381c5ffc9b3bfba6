"""The demo book catches look-ahead: defaults are persistent events after which activity collapses,
so features taken after the snapshot month score better than the true PD itself."""
from __future__ import annotations

import pandas as pd
import pytest

from cb_core.features import month_index, month_label, snapshot
from cb_core.model import train_model
from cb_core.synth import generate_book

FAST = {"learning_rate": 0.1, "num_boost_round": 200, "early_stopping_rounds": 20, "num_threads": 1}


def _table(book, months_ahead: int) -> pd.DataFrame:
    """Each outcome row joined with the snapshot ``months_ahead`` months after its own (0 = honest)."""
    parts = []
    for month, rows in book.outcomes.groupby("snapshot_month", sort=True):
        snap = snapshot(book.merchants, book.activity, month_label(month_index(month) + months_ahead))
        parts.append(rows.set_index("merchant_id").join(snap, how="inner").reset_index())
    return pd.concat(parts, ignore_index=True)


def _metrics(table: pd.DataFrame) -> dict:
    features = [c for c in table.columns if c not in ("merchant_id", "snapshot_month", "defaulted_12m", "true_pd")]
    model = train_model(table[features], table["defaulted_12m"], time=table["snapshot_month"],
                        oracle_pd=table["true_pd"], groups=table["merchant_id"], horizon_months=12, params=FAST)
    return model.card["metrics"]


@pytest.fixture(scope="module")
def book():
    return generate_book(4_000, 24, seed=3)


def test_a_leaky_snapshot_scores_above_the_oracle_and_an_honest_one_does_not(book):
    honest, leaky = _metrics(_table(book, 0)), _metrics(_table(book, 6))
    assert honest["oracle_auc"] == pytest.approx(leaky["oracle_auc"])  # same test rows, same true PD
    assert leaky["auc"] > leaky["oracle_auc"] + 0.04, leaky
    assert honest["auc"] < honest["oracle_auc"] + 0.01, honest
