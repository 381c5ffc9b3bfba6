"""Vintages, roll rates and the backtest against the hand-computed four-loan book (hand_book.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from cb_core.errors import ConfigError
from cb_core.loans import (DEFINITIONS, backtest, definition, first_bad_mob, jeffreys_interval, roll_matrix,
                           roll_rates, traffic_light, vintages)
from cb_core.i18n import t
from tests.loans.hand_book import hand_book


@pytest.fixture(scope="module")
def book():
    return hand_book()


def test_registry_names_every_definition_in_both_languages():
    assert list(DEFINITIONS) == ["dpd_30", "dpd_60", "dpd_90", "charge_off", "bad"]
    assert definition("bad").label("en") == "Bad for the score: 90+ days past due within 12 months"
    assert definition("dpd_30").label("ko") == "30일 이상 연체 (또는 상각)"
    assert all(t(f"loans_def_{k}", lang) for k in DEFINITIONS for lang in ("ko", "en"))
    with pytest.raises(ConfigError, match="unknown delinquency definition 'dpd_45'; expected one of dpd_30"):
        definition("dpd_45")


def test_first_bad_month_on_book_under_each_definition(book):
    def first(key):
        return first_bad_mob(book.loans, book.loan_months, key).tolist()

    nan = np.nan
    assert first("dpd_30") == pytest.approx([nan, 2, nan, 10], nan_ok=True)
    assert first("dpd_60") == pytest.approx([nan, 3, nan, 11], nan_ok=True)
    assert first("dpd_90") == pytest.approx([nan, 4, nan, 12], nan_ok=True)
    assert first("charge_off") == pytest.approx([nan, 5, nan, nan], nan_ok=True)
    assert first("bad") == pytest.approx([nan, 4, nan, 12], nan_ok=True)


def test_vintages_whole_book_30_plus(book):
    v = vintages(book, bad="dpd_30")
    jan = v[v["cohort"] == "2025-01"]
    assert jan["mob"].tolist() == list(range(14))  # observed to 2026-02
    assert set(jan["loans"]) == {3} and jan["bads"].tolist() == [0, 0] + [1] * 12
    assert jan["cum_bad_rate"].iloc[-1] == pytest.approx(1 / 3)
    feb = v[v["cohort"] == "2025-02"]
    assert feb["mob"].max() == 12 and feb["bads"].tolist() == [0] * 10 + [1] * 3
    assert set(v["group"]) == {"all"}
    assert list(v.columns) == ["cohort", "group", "mob", "loans", "bads", "cum_bad_rate"]


def test_vintages_by_grade_and_category_90_plus(book):
    v = vintages(book, by="grade", bad="dpd_90").set_index(["cohort", "group", "mob"])
    assert v.loc[("2025-01", "2", 3), "cum_bad_rate"] == 0
    assert v.loc[("2025-01", "2", 4), "cum_bad_rate"] == pytest.approx(0.5)
    assert v.loc[("2025-01", "5", 13), "bads"] == 0
    assert v.loc[("2025-02", "5", 12), "cum_bad_rate"] == 1.0
    c = vintages(book, by="category", bad="charge_off")
    assert sorted(c["group"].unique()) == ["fashion", "food", "furniture", "pets"]
    assert c[(c["group"] == "food")]["bads"].tolist() == [0] * 5 + [1] * 9
    with pytest.raises(ConfigError, match="by must be one of grade, partner, product, category; got 'region'"):
        vintages(book, by="region")


def test_roll_rates_counts_balances_and_shares(book):
    r = roll_rates(book).set_index(["from_status", "to_status"])
    assert r.loc[("current", "current"), "loans"] == 22
    assert r.loc[("current", "current"), "balance_krw"] == 33_600_000
    assert r.loc[("current", "dpd_1_29"), ["loans", "balance_krw"]].tolist() == [3, 5_500_000]
    assert r.loc[("current", "repaid"), "loans"] == 1
    assert r.loc[("current", "current"), "share"] == pytest.approx(22 / 26)
    assert r.loc[("dpd_1_29", "current"), "share"] == pytest.approx(1 / 3)
    assert r.loc[("dpd_1_29", "dpd_30_59"), "share"] == pytest.approx(2 / 3)
    assert r.loc[("dpd_90_plus", "charged_off"), ["loans", "share"]].tolist() == [1, 1.0]
    m = roll_matrix(roll_rates(book), "loans")
    assert m.shape == (5, 7) and int(m.to_numpy().sum()) == 22 + 3 + 1 + 3 + 2 + 2 + 1
    segment = roll_rates(book, loan_ids=["C"]).set_index(["from_status", "to_status"])["loans"]
    assert segment[segment > 0].to_dict() == {("current", "current"): 1, ("current", "dpd_1_29"): 1,
                                              ("current", "repaid"): 1, ("dpd_1_29", "current"): 1}


def test_backtest_by_grade_with_jeffreys_interval_and_lights(book):
    b = backtest(book)
    assert b["grade"].tolist() == [2, 5] and b["loans"].tolist() == [2, 2]
    assert b["predicted_pd"].tolist() == pytest.approx([0.03, 0.15])
    assert b["observed_bad_rate"].tolist() == [0.5, 0.5]
    # one bad of two: Beta(1.5, 1.5); its 2.5% and 97.5% quantiles
    assert b["ci_low"].tolist() == pytest.approx([0.0608303, 0.0608303], abs=1e-6)
    assert b["ci_high"].tolist() == pytest.approx([0.9391697, 0.9391697], abs=1e-6)
    # 0.03 is below the 95% interval but above its 99.9% lower end (0.00443): amber
    assert b["light"].tolist() == ["amber", "green"]
    # as of 2026-01 the February loan has only 11 months: grade 5 is C alone, not bad
    early = backtest(book, as_of="2026-01")
    assert early["loans"].tolist() == [2, 1] and early["observed_bad_rate"].tolist() == [0.5, 0.0]
    other = backtest(book, predicted=pd.Series({"A": 0.5, "B": 0.5, "C": 0.5, "D": 0.5}))
    assert other["light"].tolist() == ["green", "green"]


def test_jeffreys_ends_and_the_red_light():
    low, high = jeffreys_interval(np.array([0, 100]), np.array([100, 100]))
    assert low[0] == 0 and high[1] == 1
    assert high[0] == pytest.approx(beta.ppf(0.975, 0.5, 100.5))
    assert traffic_light(np.array([0.5, 0.01, 0.03]), np.array([0, 1, 0]), np.array([100, 100, 100])).tolist() == \
        ["red", "green", "amber"]


def test_cohort_early_reads_and_discrimination(book):
    from cb_core.loans import cohort_metrics

    m = cohort_metrics(book).set_index("cohort")
    # 2025-01: B past due at mob 1 and 30+ by mob 2; bad = B only; PDs A .02, B .04, C .10:
    # B outranks A but not C, so AUC 1/2; KS 1/2 (after C: 0 of the bads, 1/2 of the goods)
    jan = m.loc["2025-01"]
    assert jan[["loans", "judged_12m"]].tolist() == [3, 3]
    assert jan["first_payment_default"] == pytest.approx(1 / 3)
    assert jan["dpd30_by_mob3"] == pytest.approx(1 / 3)
    assert jan["bad_rate_12m"] == pytest.approx(1 / 3)
    assert jan["auc"] == pytest.approx(0.5) and jan["ks"] == pytest.approx(0.5)
    # 2025-02: D alone, bad at mob 12: no good loan to rank against
    feb = m.loc["2025-02"]
    assert feb[["first_payment_default", "dpd30_by_mob3", "bad_rate_12m"]].tolist() == [0.0, 0.0, 1.0]
    assert np.isnan(feb["auc"]) and np.isnan(feb["ks"])
    # as of 2025-03 the February cohort is one month old: no 30+ read yet, nothing judged
    young = cohort_metrics(book, as_of="2025-03").set_index("cohort").loc["2025-02"]
    assert young["first_payment_default"] == 0.0 and np.isnan(young["dpd30_by_mob3"])
    assert young["judged_12m"] == 0 and np.isnan(young["bad_rate_12m"])
