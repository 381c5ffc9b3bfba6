"""Repayment simulator: amortizing schedules and revenue-based advances under sales scenarios.

Every expected value is worked out by hand in the comment next to it (start month 2025-01:
January 31 days, February 28, March 31, April 30, May 31, June 30, July 31).
"""
import numpy as np
import pandas as pd
import pytest

from cb_core.errors import ConfigError
from cb_core.offers import load_products, offers_for, scenario_sales, simulate

LOAN = {"repayment": "amortizing", "limit_krw": 10_000_000, "apr_pct": 6.0, "term_months": 12}
ADVANCE = {"repayment": "daily_settlement_pct", "limit_krw": 2_000_000, "withhold_pct": 10.0, "fixed_fee_pct": 4.0,
           "min_payment_every_days": 60, "min_payment_pct": 10.0, "max_term_months": 18}
SALES = [3_000_000, 3_000_000, 3_000_000]
INSTALMENT = 860_664.297  # 10,000,000 x 0.005 / (1 - 1.005^-12)


# ------------------------------------------------------------------ amortizing

def test_amortizing_schedule_as_is():
    schedule, summary = simulate(LOAN, SALES, "as_is", start_month="2025-01")
    assert len(schedule) == 12 and schedule["month"].iloc[[0, -1]].tolist() == ["2025-01", "2025-12"]
    assert schedule["payment_krw"].to_numpy() == pytest.approx(np.full(12, INSTALMENT), abs=0.01)
    first = schedule.iloc[0]
    assert first["interest_krw"] == pytest.approx(50_000)                  # 10,000,000 x 6% / 12
    assert first["principal_krw"] == pytest.approx(810_664.30, abs=0.01)   # 860,664.30 - 50,000
    assert first["balance_krw"] == pytest.approx(9_189_335.70, abs=0.01)
    assert schedule["balance_krw"].iloc[-1] == pytest.approx(0, abs=1e-6)
    assert schedule["principal_krw"].sum() == pytest.approx(10_000_000)
    assert summary["repaid_on"] == "2025-12" and summary["months_to_repay"] == 12
    assert summary["total_paid"] == pytest.approx(12 * INSTALMENT, abs=0.05)   # 10,327,971.56
    assert summary["total_cost"] == pytest.approx(327_971.56, abs=0.05)
    # 860,664 / 3,000,000 = 28.7% of sales: under the 30% stress line
    assert summary["stress_months"] == 0 and summary["missed_minimums"] == 0


@pytest.mark.parametrize("scenario, sales, stress", [
    ("minus_30", 2_100_000, 12),   # 860,664 / 2,100,000 = 41% every month
    ("minus_50", 1_500_000, 12),
])
def test_amortizing_payment_stays_due_when_sales_fall(scenario, sales, stress):
    schedule, summary = simulate(LOAN, SALES, scenario, start_month="2025-01")
    assert (schedule["sales_krw"] == sales).all()
    assert schedule["payment_krw"].to_numpy() == pytest.approx(np.full(12, INSTALMENT), abs=0.01)
    assert summary["stress_months"] == stress and summary["first_stress_month"] == "2025-01"
    assert summary["total_cost"] == pytest.approx(327_971.56, abs=0.05)


def test_amortizing_three_month_stop():
    schedule, summary = simulate(LOAN, SALES, "stop_3m", start_month="2025-01")
    assert schedule["sales_krw"].tolist()[:4] == [0, 0, 0, 3_000_000]
    assert schedule["stress"].tolist()[:4] == [True, True, True, False]
    assert np.isinf(schedule["payment_share_of_sales"].iloc[0])
    assert summary["stress_months"] == 3 and summary["repaid_on"] == "2025-12"


def test_sales_level_is_the_last_three_months_average():
    _, summary = simulate(LOAN, [9_000_000, 1_000_000, 2_000_000, 6_000_000], "as_is", start_month="2025-01")
    assert summary["monthly_sales_level"] == 3_000_000   # (1 + 2 + 6) / 3 million
    assert scenario_sales(1_000, "stop_3m", 5).tolist() == [0, 0, 0, 1_000, 1_000]


def test_stress_share_is_a_parameter():
    _, summary = simulate(LOAN, SALES, "as_is", start_month="2025-01", stress_share=0.25)
    assert summary["stress_months"] == 12  # 28.7% > 25%


# ------------------------------------------------------------------ revenue-based advance

def test_advance_withholds_a_share_of_daily_sales():
    schedule, _ = simulate(ADVANCE, SALES, "as_is", start_month="2025-01")
    january = schedule[schedule["date"].str.startswith("2025-01")]
    assert len(january) == 31
    assert january["sales_krw"].iloc[0] == pytest.approx(3_000_000 / 31)
    assert january["withheld_krw"].iloc[0] == pytest.approx(300_000 / 31)   # 10% of a January day
    assert january["withheld_krw"].sum() == pytest.approx(300_000)          # 10% of 3,000,000 a month
    february = schedule[schedule["date"].str.startswith("2025-02")]
    assert february["withheld_krw"].sum() == pytest.approx(300_000)


def test_advance_days_to_repay_by_hand():
    # total 2,000,000 + 4% = 2,080,000; six months of 300,000 = 1,800,000 by June 30 (day 181);
    # 280,000 left at 300,000 / 31 = 9,677.42 a day in July -> 28.93 days -> the 29th, day 210
    schedule, summary = simulate(ADVANCE, SALES, "as_is", start_month="2025-01")
    assert summary["days_to_repay"] == 210 and summary["repaid_on"] == "2025-07-29"
    assert schedule["balance_krw"].iloc[-2] == pytest.approx(280_000 - 28 * 300_000 / 31)
    assert summary["total_paid"] == pytest.approx(2_080_000) and summary["total_cost"] == pytest.approx(80_000)
    assert summary["missed_minimums"] == 0 and summary["stress_months"] == 0


def test_advance_misses_the_60_day_minimum_under_a_three_month_stop():
    # no sales Jan-Mar (days 1-90). Window 1 = days 1-60 ends on March 1: paid 0 < 10% x 2,080,000
    # = 208,000 -> missed, 208,000 debited. Window 2 = days 61-120 ends April 30: April's 300,000
    # >= 208,000. Paid by September 30: 208,000 + 6 x 300,000 = 2,008,000; 72,000 left at
    # 9,677.42 a day -> 7.44 days -> October 8.
    schedule, summary = simulate(ADVANCE, SALES, "stop_3m", start_month="2025-01")
    assert summary["missed_minimums"] == 1 and summary["first_missed_on"] == "2025-03-01"
    assert summary["shortfall_debited"] == pytest.approx(208_000)
    day60 = schedule.set_index("date").loc["2025-03-01"]
    assert day60["top_up_krw"] == pytest.approx(208_000) and day60["window"] == 1
    assert summary["repaid_on"] == "2025-10-08"
    assert summary["total_paid"] == pytest.approx(2_080_000) and summary["total_cost"] == pytest.approx(80_000)
    assert summary["stress_months"] == 1 and summary["first_stress_month"] == "2025-03"


def test_advance_minimum_under_minus_50():
    # -50%: 1,500,000 a month, 150,000 withheld. Window 1 = Jan 1-Mar 1: 150,000 + 150,000 +
    # 150,000 / 31 = 304,838.71 >= the 10% minimum of 208,000: met
    _, half = simulate(ADVANCE, SALES, "minus_50", start_month="2025-01")
    assert half["missed_minimums"] == 0
    # a 15% minimum is 312,000: missed on March 1 by 312,000 - 304,838.71 = 7,161.29
    schedule, strict = simulate({**ADVANCE, "min_payment_pct": 15.0}, SALES, "minus_50", start_month="2025-01")
    assert strict["first_missed_on"] == "2025-03-01"
    day60 = schedule.set_index("date").loc["2025-03-01"]
    assert day60["top_up_krw"] == pytest.approx(312_000 - 300_000 - 150_000 / 31)
    assert day60["paid_krw"] == pytest.approx(day60["top_up_krw"] + 150_000 / 31)


def test_advance_balance_falls_due_at_the_maximum_term():
    # 1% of 3,000,000 = 30,000 a month; 18 months (to 2026-06-30) repay 540,000 of 2,080,000;
    # 1% minimum = 20,800 per window is always met; 1,540,000 falls due on the last day
    slow = {**ADVANCE, "withhold_pct": 1.0, "min_payment_pct": 1.0}
    schedule, summary = simulate(slow, SALES, "as_is", start_month="2025-01")
    assert summary["repaid_on"] == "2026-06-30" and summary["missed_minimums"] == 0
    assert summary["balance_due_at_max_term"] == pytest.approx(1_540_000)
    assert schedule["withheld_krw"].sum() == pytest.approx(540_000)
    assert summary["stress_months"] == 1 and summary["first_stress_month"] == "2026-06"


def test_a_smaller_amount_than_the_limit():
    _, summary = simulate(ADVANCE, SALES, "as_is", start_month="2025-01", amount=1_000_000)
    # 1,040,000 at 300,000 a month: Jan-Mar 900,000; 140,000 at 300,000/30 = 10,000 a day in April -> 14th
    assert summary["repaid_on"] == "2025-04-14" and summary["total_cost"] == pytest.approx(40_000)
    with pytest.raises(ConfigError, match="must not exceed the offer's limit 2,000,000"):
        simulate(ADVANCE, SALES, amount=3_000_000, start_month="2025-01")


# ------------------------------------------------------------------ from offers, and bad input

def test_simulate_takes_an_offer_row_and_a_month_indexed_sales_series():
    products = load_products()
    m = pd.Series({"score": 650, "grade": 3, "months_active": 24, "gmv_3m_avg_krw": 3_000_000, "category": "food"})
    offers = offers_for(m, products).set_index("product_id")
    sales = pd.Series(SALES, index=["2025-10", "2025-11", "2025-12"])
    schedule, summary = simulate(offers.loc["RBF-01"], sales, "as_is")
    assert schedule["date"].iloc[0] == "2026-01-01"        # the month after the last sales month
    assert summary["amount"] == offers.loc["RBF-01", "limit_krw"]
    assert summary["total_cost"] == pytest.approx(offers.loc["RBF-01", "total_cost_krw"])
    schedule, summary = simulate(offers.loc["BANK-01"], sales, "minus_50")
    assert len(schedule) == offers.loc["BANK-01", "term_months"]
    assert summary["total_cost"] == pytest.approx(offers.loc["BANK-01", "total_cost_krw"], rel=1e-9)


def test_bad_input_is_rejected_with_what_was_wrong():
    with pytest.raises(ConfigError, match="scenario must be one of as_is, minus_30, minus_50, stop_3m; got 'crash'"):
        simulate(LOAN, SALES, "crash", start_month="2025-01")
    with pytest.raises(ConfigError, match="start_month must be a month YYYY-MM; got '2025-13'"):
        simulate(LOAN, SALES, start_month="2025-13")
    with pytest.raises(ConfigError, match="monthly_sales must not be negative"):
        simulate(LOAN, [1_000, -5], start_month="2025-01")
    with pytest.raises(ConfigError, match="monthly_sales must hold at least one month"):
        simulate(LOAN, [], start_month="2025-01")
    with pytest.raises(ConfigError, match="limit_krw is missing \\(is the merchant eligible for it\\?\\)"):
        simulate({**LOAN, "limit_krw": np.nan}, SALES, start_month="2025-01")
    with pytest.raises(ConfigError, match="repayment must be amortizing or daily_settlement_pct; got 'bullet'"):
        simulate({**LOAN, "repayment": "bullet"}, SALES, start_month="2025-01")
