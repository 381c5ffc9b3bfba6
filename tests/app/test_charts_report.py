"""Chart builders of the Model report and Cutoff tuning (ui.charts_report) and the what-if input units
(ui.what_if_panel): figures hold the engine's numbers, checked against values worked out by hand;
titles and axis titles in both languages; no snake_case, nan or raw decimals in what is shown."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cb_core.i18n import t
from cb_core.model import metrics as M
from tests.support.visible import _figure_strings, text_problems


def _labels(lang: str, keys: dict[str, str]) -> dict[str, str]:
    return {name: t(key, lang) for name, key in keys.items()}


def _problems(fig, lang: str) -> list[str]:
    return text_problems(list(_figure_strings(json.dumps(fig.to_plotly_json(), default=str))), lang)


GAINS_KEYS = {"x": "chart_gains_x", "y": "chart_gains_y", "model": "chart_gains_model", "random": "chart_gains_random"}


def _gains_labels(lang: str) -> dict[str, str]:
    return {**_labels(lang, GAINS_KEYS), "title": t("chart_gains_title", lang, window="2026-01–2026-03")}


def test_gains_curve_is_bads_captured_against_merchants_reviewed_worst_scores_first():
    # ten merchants, one per decile; the bads have scores 500, 510 and 540 (the 1st, 2nd and 5th worst)
    scores = np.array([590, 500, 560, 510, 580, 520, 570, 530, 540, 550], dtype=float)
    bad = np.array([0, 1, 0, 1, 0, 0, 0, 0, 1, 0])
    fig = _gains_from(scores, bad, "ko")
    curve, diagonal = fig.data
    # by hand: reviewing the k worst of 10 finds 1, 2, 2, 2, 3, 3, ... of the 3 bads
    assert list(curve.x) == pytest.approx([k / 10 for k in range(11)])
    assert list(curve.y) == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 1, 1, 1, 1, 1, 1])
    assert (list(diagonal.x), list(diagonal.y)) == ([0.0, 1.0], [0.0, 1.0])  # random review
    assert fig.layout.xaxis.tickformat == ".0%" and fig.layout.yaxis.tickformat == ".0%"  # rates in %


def _gains_from(scores, bad, lang):
    from ui.charts_report import gains_figure

    return gains_figure(M.gains_table(scores, bad, kind="score"), _gains_labels(lang))


def test_gains_on_a_bigger_frame_match_a_sort_by_hand():
    rng = np.random.default_rng(5)
    scores = rng.integers(300, 900, 2_000).astype(float) + rng.uniform(0, 0.5, 2_000)  # no ties
    bad = (rng.uniform(size=2_000) < 1 / (1 + np.exp((scores - 550) / 60))).astype(int)
    curve = _gains_from(scores, bad, "en").data[0]
    worst_first = bad[np.argsort(scores)]
    expected = [worst_first[: k * 200].sum() / bad.sum() for k in range(11)]
    assert list(curve.y) == pytest.approx(expected)
    assert list(curve.x) == pytest.approx([k / 10 for k in range(11)])


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_gains_chart_names_its_window_and_axes_in_the_language(lang):
    fig = _gains_from(np.arange(20.0), np.tile([1, 0], 10), lang)
    assert fig.layout.title.text == t("chart_gains_title", lang, window="2026-01–2026-03")
    assert fig.layout.xaxis.title.text == t("chart_gains_x", lang) and "%" in fig.layout.xaxis.title.text
    assert fig.layout.yaxis.title.text == t("chart_gains_y", lang) and "%" in fig.layout.yaxis.title.text
    assert _problems(fig, lang) == []


PSI_KEYS = {"title": "chart_psi_title", "x": "chart_psi_x", "watch": "chart_psi_watch", "shift": "chart_psi_shift",
            "stable": "val_stable", "watch_band": "val_watch", "shift_band": "val_shift"}


def _psi_chart(lang: str):
    from cb_core.data import feature_catalog
    from ui.charts_report import psi_figure

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"months_active": rng.integers(0, 24, 5_000), "return_rate_6m": rng.uniform(0, 0.2, 5_000),
                          "bureau_score": rng.normal(700, 50, 5_000)})
    now = pd.DataFrame({"months_active": rng.integers(0, 24, 5_000), "return_rate_6m": rng.uniform(0.05, 0.3, 5_000),
                        "bureau_score": rng.normal(760, 50, 5_000)})
    psi = M.psi_by_column(train, now)
    catalog = feature_catalog()
    return psi, psi_figure(psi, lambda f: catalog[f].label(lang), (M.PSI_WATCH, M.PSI_SHIFT), _labels(lang, PSI_KEYS))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_psi_bars_are_the_engines_psi_named_by_catalog_labels(lang):
    from cb_core.data import feature_catalog

    psi, fig = _psi_chart(lang)
    (bars,) = fig.data
    catalog = feature_catalog()
    # worst on top: plotly draws the first bar at the bottom, so the rows come reversed
    assert list(bars.x) == pytest.approx(psi["psi"].iloc[::-1].tolist())
    assert list(bars.y) == [catalog[f].label(lang) for f in psi["column"].iloc[::-1]]
    assert not {"months_active", "return_rate_6m", "bureau_score"} & set(bars.y)  # never the ids
    assert psi["band"].iloc[0] == "shift" and psi["band"].iloc[-1] == "stable"  # the frame spans the bands
    assert sorted(s.x0 for s in fig.layout.shapes) == [0.1, 0.25]  # the watch and shift lines
    assert fig.layout.xaxis.title.text == t("chart_psi_x", lang)
    assert fig.layout.title.text == t("chart_psi_title", lang)
    off_axis = {f"{v:,.2f} ▸" for v in psi["psi"] if v > 1.0}  # bureau_score's 1.29: written at the edge
    assert off_axis and {a.text for a in fig.layout.annotations} == {t("chart_psi_watch", lang),
                                                                     t("chart_psi_shift", lang)} | off_axis
    assert _problems(fig, lang) == []


INTERVAL_KEYS = {"x": "chart_intervals_x", "interval": "chart_interval", "approval_rate": "approval_rate",
                 "expected_bad_rate": "expected_bad_rate", "observed_bad_rate": "observed_bad_rate"}


def _segment_table() -> pd.DataFrame:
    return pd.DataFrame({
        "thin_file": [0, 1], "n": [900, 100], "share": [0.9, 0.1],
        "approval_rate": [0.62, 0.31], "approval_rate_low": [0.59, 0.22], "approval_rate_high": [0.65, 0.40],
        "expected_bad_rate": [0.031, 0.054], "expected_bad_rate_low": [0.028, 0.041],
        "expected_bad_rate_high": [0.034, 0.070],
        "observed_bad_rate": [float("nan")] * 2, "observed_bad_rate_low": [float("nan")] * 2,
        "observed_bad_rate_high": [float("nan")] * 2})


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_interval_chart_draws_each_point_with_its_interval_as_error_bars(lang):
    from ui.charts_report import interval_figure

    names = {0: t("val_thin_file_0", lang), 1: t("val_thin_file_1", lang)}
    title = t("chart_intervals_stale", lang, approve=640, refer=590)
    fig = interval_figure(_segment_table(), "thin_file", names.get, {**_labels(lang, INTERVAL_KEYS), "title": title})
    approval, expected = fig.data  # the observed rate has no value at all: no empty panel
    assert list(approval.x) == [0.62, 0.31] and list(approval.y) == [names[0], names[1]]
    assert list(approval.error_x.array) == pytest.approx([0.03, 0.09])       # high - point
    assert list(approval.error_x.arrayminus) == pytest.approx([0.03, 0.09])  # point - low
    assert list(expected.error_x.array) == pytest.approx([0.003, 0.016])
    assert list(expected.error_x.arrayminus) == pytest.approx([0.003, 0.013])
    assert fig.layout.title.text == title and "640" in title  # says which draft they are for
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == t("chart_intervals_x", lang)
    assert (fig.layout.xaxis.tickformat, fig.layout.xaxis2.tickformat) == (".0%", ".1%")  # rates in %
    assert {a.text for a in fig.layout.annotations} == {t("approval_rate", lang), t("expected_bad_rate", lang)}
    assert _problems(fig, lang) == []


def test_interval_chart_escapes_segment_names_from_data():
    from ui.charts_report import interval_figure

    table = _segment_table().rename(columns={"thin_file": "region"}).assign(region=["<b>x</b>", "seoul"])
    fig = interval_figure(table, "region", str, {**_labels("en", INTERVAL_KEYS), "title": "t"})
    assert fig.data[0].y[0] == "&lt;b&gt;x&lt;/b&gt;"


# ------------------------------------------------------------------ what-if input units

def test_what_if_units_come_from_the_catalog():
    from ui.what_if_panel import UNIT_INPUTS, engine_value, krw_step, shown_value, unit_of

    pct, krw, months = unit_of("return_rate_6m"), unit_of("gmv_3m_avg_krw"), unit_of("zero_sales_months_12m")
    assert pct is UNIT_INPUTS["ratio"] and krw is UNIT_INPUTS["KRW"] and months is UNIT_INPUTS["months"]
    assert unit_of("orders_3m_avg") is UNIT_INPUTS["count"]
    # shown: a rate in %, money in whole won, months whole
    assert shown_value(0.0362, pct) == 3.6 and shown_value(512_785.4, krw) == 512_785
    assert isinstance(shown_value(512_785.4, krw), int) and shown_value(float("nan"), months) == 0
    # back to the engine: 12.5 % is 0.125, exactly; an input left as shown gives the merchant's own value
    assert engine_value(12.5, 0.0362, pct) == 0.125
    assert engine_value(3.6, 0.0362, pct) == 0.0362
    assert engine_value(0, float("nan"), months) != engine_value(0, float("nan"), months)  # still missing
    assert engine_value(600_000, 512_785.4, krw) == 600_000.0
    assert engine_value(4, 2.0, months) == 4.0
    # steps: a tenth of the amount's order of magnitude, at least 1,000 won
    assert [krw_step(v) for v in (0, 8_000, 512_785, 6_443_395, 446_602_243)] == [1_000, 1_000, 10_000, 100_000,
                                                                                   10_000_000]


def test_one_far_shifted_feature_does_not_squash_the_others():
    from ui.charts_report import PSI_AXIS_CAP, psi_figure

    psi = pd.DataFrame({"column": ["months_active", "return_rate_6m", "bureau_score"], "psi": [10.04, 0.3, 0.02],
                        "band": ["shift", "shift", "stable"]})
    fig = psi_figure(psi, str, (M.PSI_WATCH, M.PSI_SHIFT), _labels("en", PSI_KEYS))
    assert tuple(fig.layout.xaxis.range) == (0, PSI_AXIS_CAP)
    assert list(fig.data[0].x) == [0.02, 0.3, 10.04]  # the bar keeps its value (and its hover)
    written = [a for a in fig.layout.annotations if a.y == "months_active"]
    assert [a.text for a in written] == ["10.04 ▸"] and written[0].x == PSI_AXIS_CAP
    small = psi_figure(psi.iloc[1:], str, (M.PSI_WATCH, M.PSI_SHIFT), _labels("en", PSI_KEYS))
    assert small.layout.xaxis.range[1] == pytest.approx(0.33)  # below the cap: the longest bar plus 10 %


def test_dependence_and_profit_axes_read_money_as_koreans_do_never_si():
    from tests.support.visible import axis_format_problems
    from ui.charts import curves_figure, dependence_figure, feature_axis

    dep = pd.DataFrame({"value": [0.0, 12_000_000.0, 228_073_760.0], "points": [-5.0, 1.0, 4.0]})
    money = dependence_figure(dep, "최근 3개월 평균 매출", "점수", feature_axis("KRW", dep["value"], "ko"))
    assert list(money.layout.xaxis.ticktext) == ["0원", "1억원", "2억원", "3억원"] 
    assert money.layout.xaxis.title.text == "최근 3개월 평균 매출"
    rate = dependence_figure(dep.assign(value=[0.0, 0.05, 0.3]), "반품률", "점수", feature_axis("ratio", [0.3], "ko"))
    assert rate.layout.xaxis.tickformat == ".0%"
    count = dependence_figure(dep, "주문 수", "점수", feature_axis("count", dep["value"], "ko"))
    assert count.layout.xaxis.tickformat == ",~r"
    table = pd.DataFrame({"approve_cutoff": [500, 600, 700], "approval_rate": [0.9, 0.6, 0.2],
                          "expected_bad_rate": [0.05, 0.03, 0.01], "profit_krw": [-20_000_000.0, 90_000_000.0, 40_000_000.0],
                          "expected_loss_krw": [125_000_000.0, 60_000_000.0, 10_000_000.0]})
    curves = curves_figure(table, 600, {"approval": "승인율", "bad": "부실률", "profit": "이익", "loss": "손실", "x": "컷오프"})
    assert curves.layout.yaxis3.ticktext[-1] == "1억 5,000만원" and "0원" in curves.layout.yaxis3.ticktext
    for fig in (money, rate, count, curves):
        assert axis_format_problems(json.dumps(fig.to_plotly_json(), default=str)) == []
