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


def test_nice_ticks_are_round_and_cover_the_range():
    from ui.charts import nice_ticks

    assert nice_ticks(0, 75_210_000).tolist() == [0, 20_000_000, 40_000_000, 60_000_000, 80_000_000]
    assert nice_ticks(0.3, 4.6).tolist() == [0, 2, 4, 6]  # step 2: 4.3 / 4 rounded up to 1-2-5
    assert nice_ticks(5, 5).tolist() == [4, 6]  # a flat series still gets an axis around it


def test_money_axis_reads_as_koreans_read_money():
    from ui.charts import krw_axis

    ko, en = krw_axis([12_000_000, 150_000_000], "ko"), krw_axis([12_000_000, 150_000_000], "en")
    assert ko["ticktext"] == ["0원", "5,000만원", "1억원", "1억 5,000만원"]
    assert en["ticktext"] == ["₩0", "₩50.0M", "₩100M", "₩150M"]
    assert krw_axis([float("nan")], "ko") == {}


def test_waterfall_axis_spans_the_running_totals_not_zero_to_the_score():
    from ui.charts import waterfall_figure

    table = pd.DataFrame({"label": ["base", "a", "b", "score"], "points": [600.0, -12.0, 4.5, 592.5],
                          "measure": ["absolute", "relative", "relative", "total"]})
    low, high = waterfall_figure(table, "", "points").layout.xaxis.range
    # running totals 600 -> 588 -> 592.5: the axis shows that stretch (with a margin), not 0-600
    assert 570 < low < 588 and 600 < high < 620


def test_repayment_chart_shows_money_on_both_axes_in_round_korean_units():
    from cb_core.offers import AMORTIZING
    from ui.charts_offers import repayment_figure

    schedule = pd.DataFrame({"month": ["2026-11", "2026-12", "2027-01"], "payment_krw": [3_400_000.0] * 3,
                             "balance_krw": [20_000_000.0, 13_000_000.0, 6_700_000.0]})
    fig = repayment_figure(schedule, AMORTIZING, {"paid": "납입", "balance": "잔액"})
    assert fig.layout.yaxis.ticktext == ("0원", "500만원", "1,000만원", "1,500만원", "2,000만원")  # session language: ko
    assert fig.layout.yaxis2.ticktext[-1] == "400만원" and "e+" not in " ".join(fig.layout.yaxis2.ticktext)


def test_repayment_chart_of_an_advance_reads_its_days_without_english_month_names():
    from cb_core.offers import AMORTIZING
    from tests.support.visible import axis_format_problems
    from ui.charts_offers import repayment_figure

    days = pd.date_range("2026-11-01", periods=90, freq="D")
    schedule = pd.DataFrame({"date": days.date, "withheld_krw": 8_567.0, "top_up_krw": 0.0,
                             "balance_krw": np.linspace(2_217_433, 1_450_000, 90)})
    for repayment in ("advance", AMORTIZING):
        frame = schedule if repayment != AMORTIZING else schedule.rename(columns={"date": "month",
                                                                                   "withheld_krw": "payment_krw"})
        fig = repayment_figure(frame, repayment, {"paid": "상환액", "balance": "잔액", "withheld": "정산 차감액",
                                                  "top_up": "부족분 출금"})
        assert axis_format_problems(fig.to_json()) == []
        assert fig.layout.xaxis.tickformat == "%Y-%m"  # 2026-11, never "Nov 2026" on a Korean page


def test_the_category_band_is_drawn_as_a_band_without_markers():
    from ui.charts import trends_figure

    months = ["2026-07", "2026-08", "2026-09"]
    trends = pd.DataFrame({"month": months, "gmv_krw": [5e6, 6e6, 7e6]})
    bands = pd.DataFrame({"metric": "gmv_krw", "month": months, "p25": [4e6] * 3, "p50": [5e6] * 3, "p75": [6e6] * 3})
    fig = trends_figure(trends, bands, ["gmv_krw"], {"gmv_krw": "매출"}, "band", "median", "merchant")
    band_and_median = [t for t in fig.data if t.name != "merchant"]
    assert [t.mode for t in band_and_median] == ["lines"] * 3
    assert fig.layout.yaxis.ticktext[0] == "0원"
