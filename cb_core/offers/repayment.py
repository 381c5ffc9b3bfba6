"""Repayment simulator: how an offer is repaid if sales go on as they are, fall, or stop.

Sales going forward are the average of the last three months given (the same monthly sales the
limit is sized on), shaped by a scenario from :data:`SCENARIOS`: ``as_is``, ``minus_30`` (-30%
from the first month), ``minus_50`` (-50%), ``stop_3m`` (no sales at all for the first three
months, then back to the average). Month 1 is ``start_month``: the advance or loan is paid out on
its first day.

- **Amortizing** loans: the monthly schedule (payment, interest, principal, balance). The
  instalment is due whatever sales do; a month is a *stress month* when the instalment exceeds
  ``stress_share`` (30%) of that month's sales.
- **Revenue-based advances**: simulated by day, each month's sales spread evenly over its days;
  ``withhold_pct`` of each day's sales repays the advance and its fixed fee. At the end of every
  ``min_payment_every_days`` window at least ``min_payment_pct`` of the total repayable (or what
  is left, if less) must have been paid in that window; when withholding falls short, the minimum
  is *missed* and the shortfall is debited from the merchant's account that day (as
  revenue-based lenders do). Whatever is left after ``max_term_months`` falls due on the last day.
  Stress months are the months with such a debit.
"""
from __future__ import annotations

import calendar
import math
import re
from datetime import date, timedelta
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .catalog import AMORTIZING, REVENUE_BASED
from .match import annuity_payment

__all__ = ["SCENARIOS", "simulate", "scenario_sales"]

#: Scenario -> (factor on sales, months from the start it lasts; None = for good).
SCENARIOS: dict[str, tuple[float, int | None]] = {
    "as_is": (1.0, None), "minus_30": (0.7, None), "minus_50": (0.5, None), "stop_3m": (0.0, 3),
}
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_TOLERANCE_KRW = 0.01  # sums of daily fractions of a won must not look like a missed payment


def _month_start(label: str) -> date:
    m = _MONTH_RE.match(label) if isinstance(label, str) else None
    if not m:
        raise ConfigError(f"start_month must be a month YYYY-MM; got {label!r}", key="err_repayment_start_month_month_yyyy", label=label)
    return date(int(m.group(1)), int(m.group(2)), 1)


def _add_months(d: date, k: int) -> date:
    total = d.year * 12 + d.month - 1 + k
    return date(total // 12, total % 12 + 1, 1)


def _baseline(monthly_sales: Any) -> float:
    values = pd.to_numeric(pd.Series(monthly_sales, dtype=object), errors="coerce").to_numpy(dtype=float)
    if values.size == 0 or np.isnan(values).all():
        raise ConfigError("monthly_sales must hold at least one month of sales; got none", key="err_repayment_monthly_sales_hold_least")
    if np.nanmin(values) < 0:
        raise ConfigError(f"monthly_sales must not be negative; got {np.nanmin(values):,.0f}", key="err_repayment_monthly_sales_negative_got", sales_krw=np.nanmin(values))
    recent = values[~np.isnan(values)][-3:]
    return float(recent.mean())


def scenario_sales(baseline: float, scenario: str, months: int) -> np.ndarray:
    """Projected sales of ``months`` months from the start under ``scenario``."""
    if scenario not in SCENARIOS:
        raise ConfigError(f"scenario must be one of {', '.join(SCENARIOS)}; got {scenario!r}", key="err_repayment_scenario_one_scenarios_got", SCENARIOS=', '.join(SCENARIOS), scenario=scenario)
    factor, lasts = SCENARIOS[scenario]
    k = np.arange(months)
    return baseline * np.where(k < (lasts if lasts is not None else months), factor, 1.0)


def _offer_number(offer: Mapping[str, Any], key: str) -> float:
    try:
        value = float(offer[key])
    except KeyError:
        raise ConfigError(f"the offer has no {key}", key="err_repayment_offer_has_no_field", field=key) from None
    except (TypeError, ValueError):
        raise ConfigError(f"the offer's {key} must be a number; got {offer[key]!r}", key="err_repayment_offer_field_not_number", field=key, offer=offer[key]) from None
    if not math.isfinite(value):
        raise ConfigError(f"the offer's {key} is missing (is the merchant eligible for it?)", key="err_repayment_offer_field_missing", field=key)
    return value


def _amortizing(offer: Mapping[str, Any], principal: float, baseline: float, scenario: str,
                start: date, stress_share: float) -> tuple[pd.DataFrame, dict[str, Any]]:
    apr, n = _offer_number(offer, "apr_pct"), int(_offer_number(offer, "term_months"))
    r = apr / 1200.0
    payment = float(annuity_payment(principal, apr, n))
    sales = scenario_sales(baseline, scenario, n)
    rows, balance = [], principal
    for k in range(n):
        interest = balance * r
        paid = payment if k < n - 1 else balance + interest  # the last one clears the rounding rest
        balance = balance + interest - paid
        share = paid / sales[k] if sales[k] > 0 else math.inf
        rows.append({"month": _add_months(start, k).strftime("%Y-%m"), "sales_krw": sales[k], "payment_krw": paid,
                     "interest_krw": interest, "principal_krw": paid - interest, "balance_krw": max(balance, 0.0),
                     "payment_share_of_sales": share, "stress": share > stress_share})
    schedule = pd.DataFrame(rows)
    stressed = schedule.loc[schedule["stress"], "month"]
    summary = {
        "repaid_on": schedule["month"].iloc[-1], "months_to_repay": n,
        "total_paid": float(schedule["payment_krw"].sum()), "total_cost": float(schedule["interest_krw"].sum()),
        "missed_minimums": 0, "first_missed_on": None, "stress_months": int(len(stressed)),
        "first_stress_month": stressed.iloc[0] if len(stressed) else None,
    }
    return schedule, summary


def _advance(offer: Mapping[str, Any], amount: float, baseline: float, scenario: str,
             start: date) -> tuple[pd.DataFrame, dict[str, Any]]:
    withhold = _offer_number(offer, "withhold_pct") / 100
    fee = amount * _offer_number(offer, "fixed_fee_pct") / 100
    window = int(_offer_number(offer, "min_payment_every_days"))
    max_term = int(_offer_number(offer, "max_term_months"))
    total = amount + fee
    minimum = total * _offer_number(offer, "min_payment_pct") / 100
    monthly = scenario_sales(baseline, scenario, max_term)
    last_day = _add_months(start, max_term) - timedelta(days=1)

    rows = []
    balance, paid_in_window, window_start_balance = total, 0.0, total
    day, d = start, 0
    missed: list[tuple[str, float]] = []
    repaid_on, due_at_end = None, 0.0
    while balance > _TOLERANCE_KRW:
        k = (day.year - start.year) * 12 + day.month - start.month
        sales = monthly[k] / calendar.monthrange(day.year, day.month)[1]
        withheld = min(withhold * sales, balance)
        balance -= withheld
        paid_in_window += withheld
        top_up = 0.0
        if (d + 1) % window == 0:
            required = min(minimum, window_start_balance)
            if paid_in_window < required - _TOLERANCE_KRW:
                top_up = min(required - paid_in_window, balance)
                missed.append((day.isoformat(), top_up))
            balance -= top_up
            paid_in_window, window_start_balance = 0.0, balance
        if day == last_day and balance > _TOLERANCE_KRW:
            due_at_end = balance  # the rest falls due at the maximum term
            top_up += balance
            balance = 0.0
        rows.append({"date": day.isoformat(), "sales_krw": sales, "withheld_krw": withheld, "top_up_krw": top_up,
                     "paid_krw": withheld + top_up, "balance_krw": max(balance, 0.0), "window": d // window + 1})
        if balance <= _TOLERANCE_KRW:
            repaid_on = day.isoformat()
        day, d = day + timedelta(days=1), d + 1
    schedule = pd.DataFrame(rows)
    debit_months = sorted({r["date"][:7] for r in rows if r["top_up_krw"] > 0})
    summary = {
        "repaid_on": repaid_on, "days_to_repay": len(rows),
        "total_paid": float(schedule["paid_krw"].sum()), "total_cost": fee,
        "missed_minimums": len(missed), "first_missed_on": missed[0][0] if missed else None,
        "shortfall_debited": float(sum(s for _, s in missed)), "balance_due_at_max_term": due_at_end,
        "stress_months": len(debit_months), "first_stress_month": debit_months[0] if debit_months else None,
    }
    return schedule, summary


def simulate(offer: Mapping[str, Any] | pd.Series, monthly_sales: Any, scenario: str = "as_is", *,
             start_month: str | None = None, amount: float | None = None,
             stress_share: float = 0.30) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate repaying an offer under a sales scenario.

    Parameters
    ----------
    offer : dict or Series
        A row of :func:`~cb_core.offers.match.offers_for` (an eligible one), or a dict with
        ``repayment`` and ``limit_krw``; amortizing: ``apr_pct``, ``term_months``; advance:
        ``withhold_pct``, ``fixed_fee_pct``, ``min_payment_every_days``, ``min_payment_pct``,
        ``max_term_months``.
    monthly_sales : array-like or Series
        Recent monthly sales, oldest first; the last three (fewer if that is all) set the level.
        A Series indexed by month ``YYYY-MM`` also sets the default start.
    scenario : {"as_is", "minus_30", "minus_50", "stop_3m"}
    start_month : str, optional
        First month of repayment ``YYYY-MM``; default the month after the last month of
        ``monthly_sales`` when it is indexed by month, else next month.
    amount : float, optional
        Amount taken; default the offer's limit.
    stress_share : float
        An instalment above this share of the month's sales marks a stress month (amortizing).

    Returns
    -------
    schedule : DataFrame
        Amortizing: one row per month (``month``, ``sales_krw``, ``payment_krw``,
        ``interest_krw``, ``principal_krw``, ``balance_krw``, ``payment_share_of_sales``,
        ``stress``). Advance: one row per day until repaid (``date``, ``sales_krw``,
        ``withheld_krw``, ``top_up_krw``, ``paid_krw``, ``balance_krw``, ``window``).
    summary : dict
        ``repaid_on`` (month or date), ``total_paid``, ``total_cost`` (interest or fee),
        ``missed_minimums``, ``first_missed_on``, ``stress_months``, ``first_stress_month``;
        amortizing also ``months_to_repay``; advance also ``days_to_repay``,
        ``shortfall_debited``, ``balance_due_at_max_term``; and ``scenario``, ``repayment``,
        ``amount``, ``monthly_sales_level``.
    """
    repayment = offer.get("repayment") if hasattr(offer, "get") else None
    if repayment not in (AMORTIZING, REVENUE_BASED):
        raise ConfigError(f"the offer's repayment must be {AMORTIZING} or {REVENUE_BASED}; got {repayment!r}", key="err_repayment_offer_s_repayment_amortizing", AMORTIZING=AMORTIZING, REVENUE_BASED=REVENUE_BASED, repayment=repayment)
    if not 0 < stress_share <= 1:
        raise ConfigError(f"stress_share must be within (0, 1]; got {stress_share}", key="err_repayment_stress_share_within_got", stress_share=stress_share)
    principal = _offer_number(offer, "limit_krw") if amount is None else float(amount)
    if not principal > 0:
        raise ConfigError(f"amount must be greater than 0; got {principal}", key="err_repayment_amount_greater_than_got", amount_krw=principal)
    if amount is not None and "limit_krw" in offer and principal > float(offer["limit_krw"]):
        raise ConfigError(f"amount must not exceed the offer's limit {float(offer['limit_krw']):,.0f}; got {principal:,.0f}", key="err_repayment_amount_above_limit", limit_krw=float(offer['limit_krw']), amount_krw=principal)
    baseline = _baseline(monthly_sales)
    if start_month is None:
        index = getattr(monthly_sales, "index", None)
        last = str(index[-1]) if index is not None and len(index) else ""
        today = date.today()
        start = _add_months(_month_start(last), 1) if _MONTH_RE.match(last) else _add_months(date(today.year, today.month, 1), 1)
    else:
        start = _month_start(start_month)
    scenario_sales(baseline, scenario, 1)  # validates the scenario name
    if repayment == AMORTIZING:
        schedule, summary = _amortizing(offer, principal, baseline, scenario, start, stress_share)
    else:
        schedule, summary = _advance(offer, principal, baseline, scenario, start)
    summary |= {"scenario": scenario, "repayment": repayment, "amount": principal, "monthly_sales_level": baseline}
    return schedule, summary
