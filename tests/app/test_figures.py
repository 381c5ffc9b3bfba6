"""Kept figures (ui/cache_figures.kept_figure): a chart drawn once is shown again only while what it shows is the same;
another merchant, another language, another feature or another schedule draws it anew (issue #13)."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from cb_core.i18n import t
from tests.support.app import app_as


def _array(value) -> list:
    """Plotly JSON arrays may be typed (base64 ``bdata``); return a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _figures(app) -> list[dict]:
    return [json.loads(c.proto.spec) for c in app.get("plotly_chart")]


def test_a_kept_figure_is_built_once_per_key_and_again_for_another_key():
    import plotly.graph_objects as go

    from ui.cache_figures import kept_figure

    built = []

    def build(y):
        built.append(y)
        return go.Figure(go.Bar(x=[1], y=[y]))

    first = kept_figure("test_kept", ("book-a", "ko"), lambda: build(1))
    again = kept_figure("test_kept", ("book-a", "ko"), lambda: build(99))  # same key: not built again
    other = kept_figure("test_kept", ("book-a", "en"), lambda: build(2))
    assert built == [1, 2]
    assert again is first and list(first.data[0].y) == [1]
    assert list(other.data[0].y) == [2]


def _review(at, merchant_id: str):
    at.text_input(key="review_query").set_value(merchant_id).run()
    assert at.selectbox(key="review_merchant").value == merchant_id
    assert not at.exception, at.exception
    figures = _figures(at)
    waterfall = next(f for f in figures if f["data"][0]["type"] == "waterfall")
    trends = next(f for f in figures if f["data"][0]["type"] == "scatter" and len(f["data"]) > 20)
    return waterfall, trends


def test_review_charts_follow_the_merchant_and_the_language(app_users, small_book, trained):
    from cb_core.explain import points_by_feature
    from cb_core.features.pipeline import current_snapshot

    model, _ = trained
    snap = current_snapshot(small_book)
    at = app_as("admin", app_users)
    at.session_state["lang"] = "en"
    at.switch_page("views/merchant_review.py").run()
    first, second = small_book.merchants["merchant_id"].iloc[[2, 7]]
    for merchant_id in (first, second, first):  # back to the first: its kept charts are its own again
        waterfall, trends = _review(at, merchant_id)
        activity = small_book.activity[small_book.activity["merchant_id"] == merchant_id].sort_values("month")
        mine = [d for d in trends["data"] if d.get("name") == "This merchant"]
        assert _array(mine[0]["y"]) == activity["gmv_krw"].astype(float).tolist()
        points = points_by_feature(model, snap.loc[[merchant_id]]).iloc[0]
        assert _array(waterfall["data"][0]["x"])[0] == pytest.approx(points["base_points"])  # the base first
        assert _array(waterfall["data"][0]["x"])[-1] == pytest.approx(points.sum())  # ends at the score
    at.session_state["lang"] = "ko"
    at.run()
    _, trends = _review(at, first)
    assert {d.get("name") for d in trends["data"]} >= {t("chart_merchant", "ko")}
    assert "This merchant" not in {d.get("name") for d in trends["data"]}


def test_model_report_dependence_follows_the_feature_and_the_language(app_users, small_book, trained):
    from cb_core.explain import dependence, points_by_feature
    from cb_core.features.pipeline import current_snapshot

    model, _ = trained
    snap = current_snapshot(small_book)
    sample = snap.sample(min(2000, len(snap)), random_state=0)  # ui.cache_report.sample_points' sample
    points = points_by_feature(model, sample)
    at = app_as("admin", app_users)
    at.session_state["lang"] = "en"
    at.switch_page("views/model_report.py").run()
    for feature in model.features[:2]:
        at.selectbox(key="dep_feature").set_value(feature).run()
        assert not at.exception, at.exception
        dep = next(f for f in _figures(at) if f["layout"].get("yaxis", {}).get("title", {}).get("text") == "Points"
                   and f["data"][0]["type"] == "scatter" and f["data"][0]["mode"] == "markers"
                   and len(f["data"]) == 1)
        expected = dependence(points, sample, feature)
        assert _array(dep["data"][0]["y"]) == pytest.approx(expected["points"].tolist(), rel=1e-6, abs=1e-4)
        assert dep["layout"]["xaxis"]["title"]["text"] == model.feature_label(feature, "en")
    at.session_state["lang"] = "ko"
    at.run()
    feature = at.selectbox(key="dep_feature").value
    titles = {(f["layout"].get("xaxis", {}).get("title") or {}).get("text") for f in _figures(at)}
    assert model.feature_label(feature, "ko") in titles
    assert model.feature_label(feature, "en") not in titles or model.feature_label(feature, "en") == \
        model.feature_label(feature, "ko")


def test_the_beeswarm_sends_bins_holding_every_merchant_with_its_mean_percentile():
    import pandas as pd

    from ui.charts import beeswarm_figure

    # two features, six merchants; points span -10..10 over 4 bins 5 points wide: [-10,-5) [-5,0) [0,5) [5,10]
    points = pd.DataFrame({"points__a": [-10.0, -9.0, 1.0, 10.0, np.nan, 4.0],
                           "points__b": [0.0, 0.5, 0.9, -6.0, -6.0, 9.0]})
    pct = pd.DataFrame({"a": [10.0, 30.0, 50.0, 90.0, 70.0, np.nan], "b": [20.0, 40.0, 60.0, 80.0, 100.0, 0.0]})
    fig = beeswarm_figure(points, pct, ["a", "b"], str.upper, "pts", "pct", "n", bins=4).to_plotly_json()
    trace = fig["data"][0]
    rows = list(zip(_array(trace["y"]), _array(trace["x"]), [int(c[1]) for c in trace["customdata"]],
                    _array(trace["marker"]["color"])))
    # row 0 is the last feature (b): -6 twice (pct 80, 100), 0/0.5/0.9 (20, 40, 60), 9 (0)
    expected = [(0, -7.5, 2, 90.0), (0, 2.5, 3, 40.0), (0, 7.5, 1, 0.0),
                (1, -7.5, 2, 20.0), (1, 2.5, 2, 50.0), (1, 7.5, 1, 90.0)]  # a: NaN points left out, NaN pct not averaged
    assert [v for row in sorted(rows) for v in row] == pytest.approx([v for row in sorted(expected) for v in row])
    assert fig["layout"]["yaxis"]["ticktext"] == ["B", "A"]
    # the hover's percentile is words: "–" for a bin whose merchants all lack the value, never NaN
    lone = beeswarm_figure(points, pct.assign(a=np.nan), ["a"], str.upper, "pts", "pct", "n", bins=4).to_plotly_json()
    assert [c[2] for c in lone["data"][0]["customdata"]] == ["–", "–", "–"]
    assert [c[2] for c in trace["customdata"]] == [f"{v:.0f}" for v in _array(trace["marker"]["color"])]
