"""Chart builders: what reaches the browser is binned on the server."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ui.charts import score_bins, score_histogram_figure


def test_score_bins_count_every_score_once_on_round_edges():
    scores = pd.Series([581, 589.9, 590, 599, 600, 742, np.nan])
    bins = score_bins(scores, width=10)
    assert bins["low"].tolist() == list(range(580, 750, 10))
    by_low = dict(zip(bins["low"], bins["count"]))
    assert (by_low[580], by_low[590], by_low[600], by_low[740]) == (2, 2, 1, 1)
    assert bins["count"].sum() == 6  # the missing score is not counted anywhere
    assert score_bins(pd.Series([], dtype=float)).empty


def test_histogram_ships_one_bar_per_bin_not_one_value_per_merchant():
    rng = np.random.default_rng(3)
    scores = pd.Series(rng.normal(620, 60, 200_000).clip(300, 900))
    fig = score_histogram_figure(scores, 620, 580, "score", "merchants")
    payload = json.dumps(fig.to_plotly_json(), default=str)
    (bar,) = fig.data
    assert len(bar.x) <= 61 and sum(bar.y) == len(scores)
    assert len(payload) < 20_000  # about 60 bars, whatever the book's size
