"""Reproducible synthetic merchant book with a known true probability of default.

:func:`generate_book` builds the contract tables (``merchants``, ``monthly_activity``, ``outcomes``
and ``bureau_history``) from a seed: same seed, same bytes. The owner's bureau record does not
change over the book: ``bureau_history`` holds one row per merchant, at its first month, with the
merchants table's values, so snapshots of the demo book are point-in-time. It is vectorised over merchants and loops only
over months, so a million merchants by 24 months fits a small machine.

How the book is made
--------------------
Each merchant draws a hidden quality ``q ~ N(0, 1)``. Quality tilts everything a lender cannot see
directly: the trajectory (growth / steady / declining / churning), return, dispute and shipping-delay
propensities, ratings, repeat buyers, monthly volatility and the bureau score. Monthly activity is then
simulated from those propensities: GMV is lognormal in size (median ~0.9M KRW a month, a Pareto tail
of power sellers up to hundreds of millions), times the category's calendar seasonality (November and
December peaks; Lunar New Year and Chuseok gift peaks lift food, gift sets and beauty, dip the rest;
the holiday lift lands in the three weeks before the holiday, from a table of dates 2015-2030),
a ramp-up for new sellers and AR(1) noise. Orders, returns, reviews, disputes and delays are
Poisson/binomial counts of those orders, so ``unique_buyers <= orders``, ``returns <= orders`` and
``refund_krw <= gmv_krw`` hold by construction; ``settlement_krw = (gmv - refund) * (1 - fee rate)``.
Churning merchants fade to zero sales and about two thirds of them stop having rows. About 15% of
merchants joined within the last 6 months (their first months ramp up from ~15% of their level); the
rest joined earlier (exponential, mean 4 years). About 30% of owners are thin-file (no bureau score),
more often young owners and businesses under two years old. Holiday dates outside 2015-2030 are taken
as 5 February and 25 September. Regions are weighted by population, tilted to Seoul and Gyeonggi.

The true probability of default
-------------------------------
The true PD of a merchant at month *T* is a function of what the book shows up to and including *T*
only, never of the hidden quality: :func:`_pd_drivers` computes the drivers from the activity and
merchants tables and :func:`_pd_from_drivers` combines them. :func:`generate_book` (for
``outcomes.true_pd``) and :func:`true_pd_at` both go through these two functions, so they agree
exactly. Windows hold the rows a merchant has in months T-11..T ("12m"), T-5..T ("6m"),
T-2..T ("3m") and T-5..T-3 ("prior 3m"); a merchant has a PD at *T* when it has a row at *T*.

    logit(PD) = intercept + category effect
        + trend        * sales_trend   ln((GMV 3m + 300,000) / (GMV prior 3m + 300,000)), clipped to
                                       [-2, 1]; 0 without a prior-3m row (too young to tell)
        + return       * return_rate   sum returns / max(sum orders, 1) over 6m, clipped to [0, 0.5]
        + dispute      * dispute_rate  sum disputes / max(sum orders, 1) over 6m, clipped to [0, 0.1]
        + volatility   * gmv_cv        population std / mean of monthly GMV over 12m, clipped to
                                       [0, 2]; 2 when the mean is 0 (one row gives 0)
        + short_tenure * short_tenure  max(0, 12 - (T - month of joined_platform_on)) / 12
        + zero_months  * zero_months   rows with gmv_krw == 0 in 12m, at most 6
        + low_rating   * low_rating    max(0, 4.5 - sum(avg_rating * reviews) / sum reviews) over 6m,
                                       at most 2; 0 without reviews
        + no_reviews   * no_reviews    1 when the 6m window has no review, else 0
        + ship_delay   * ship_delay    sum(ship_delay_rate * orders) / max(sum orders, 1) over 6m,
                                       clipped to [0, 0.6]
        + repeat       * repeat_rate   sum(repeat_buyer_rate * unique_buyers)
                                       / max(sum unique_buyers, 1) over 6m
        + bureau       * bureau_z      (bureau_score - 750) / 100 clipped to [-4, 2.5]; 0 if thin file
        + thin_file    * thin_file     1 when bureau_score is missing, else 0
        + scale        * log_gmv       log10(mean monthly GMV over 3m, clipped to [1e4, 1e9] KRW) - 6
    PD = 1 / (1 + exp(-clip(logit, -8, 3)))

Coefficients (:data:`PD_COEFFICIENTS`; a test checks this text against it):

    intercept -4.7, trend -0.7, return 5, dispute 20, volatility 0.8, short_tenure 0.9,
    zero_months 0.2, low_rating 0.8, no_reviews 0.35, ship_delay 3, repeat -1.8,
    bureau -0.55, thin_file 0.35, scale -0.3

Category effects (:data:`CATEGORY_PD_EFFECT`): fashion +0.15, beauty 0, food -0.10,
living -0.05, digital +0.10, furniture +0.20, kids -0.05, sports +0.05, pets -0.10, hobby 0.

Region and the region income index never enter the PD (sensitive data). With 20,000 merchants by
24 months the mean PD at snapshots is about 4.2%, the realised 12-month default rate about 4.6% (the
PD drifts inside the window, mostly upwards for declining merchants), and the oracle AUC of
``true_pd`` against ``defaulted_12m`` about 0.80.

Default events (persistent)
---------------------------
Each merchant has at most one default month *D*, drawn from its hazard path: in month *m* the
monthly hazard is ``1 - (1 - PD)^(1/12)`` of its true PD as of month *m - 1* (the latest month it
had a row; past the book's end, the last month's), for merchants with a row by then; *D* is the
first month whose uniform draw falls below it. From *D* on, activity collapses: orders, GMV,
buyers, reviews, returns and clicks are thinned to 45% of what they would have been, times 0.6
per further month; the dispute rate rises by 6 points and the shipping-delay rate by 15; ratings
drop half a star; ads stop; 40% of defaulted stores close 1–4 months after *D* (one row without
sales, then no rows). The PD as of any month before *D* reads only months before *D*, so it is
the same with or without the collapse.

Outcomes
--------
Snapshot months count back every third month from the month 12 months before the end, keeping those
with at least 6 months of book up to and including them (24 months: months 6, 9 and 12 of 24, i.e.
indices 5, 8, 11). With fewer than 18 months none qualifies and the last month is the only snapshot
(its outcomes then describe the year after the book). At a snapshot *T*, merchants with a row then
and at least 3 months of rows so far, not yet in default (*D* > *T*), and that had a loan (a 60%
draw per merchant and snapshot), get a row with ``true_pd`` (the PD as of *T*) and
``defaulted_12m = 1`` exactly when *T* < *D* <= *T* + 12: one default labels every earlier row
whose window holds it, and no row after it. Table ``default_events`` publishes *D* (may be past the
book's end): a label like ``outcomes``, never a feature; demo loans default exactly then.
"""
from __future__ import annotations

import numbers
import re

import numpy as np
import pandas as pd
import pyarrow as pa

from ..data import ACTIVITY_COLUMNS, BUREAU_HISTORY_COLUMNS, MERCHANT_COLUMNS, Book
from ..data import categories, regions
from ..errors import ConfigError
from ._activity import _simulate_activity
from ._names import (
    _business_names, _business_reg_nos, _date_strings, _merchant_ids, _month_start_days, _owner_names, _sigmoid,
    _to_str_series, business_reg_check_digit,
)
from ._defaults import LOAN_SHARE, _collapse, _default_events, _draw_default_months, _draw_outcomes
from ._pd import CATEGORY_PD_EFFECT, PD_COEFFICIENTS
from ._profiles import _CATEGORIES, _REGIONS, _seasonality

__all__ = ["CATEGORY_PD_EFFECT", "LOAN_SHARE", "PD_COEFFICIENTS", "business_reg_check_digit", "generate_book",
           "snapshot_months"]

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --------------------------------------------------------------------------- validation

def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer; got {value!r}", key="err_generate_name_integer_got_value", name=name, value=value)
    value = int(value)
    if high is not None and not low <= value <= high:
        raise ConfigError(f"{name} must be within {low}–{high}; got {value}", key="err_generate_name_within_low_high", name=name, low=low, high=high, value=value)
    if value < low:
        raise ConfigError(f"{name} must be at least {low}; got {value}", key="err_generate_name_least_low_got", name=name, low=low, value=value)
    return value


def _parse_month(name: str, value: object) -> int:
    """'YYYY-MM' -> absolute month number (year * 12 + month - 1)."""
    match = _MONTH_RE.match(value) if isinstance(value, str) else None
    if match is None or not 1900 <= int(match.group(1)) <= 2999:
        raise ConfigError(f"{name} must be a month YYYY-MM between 1900-01 and 2999-12; got {value!r}", key="err_generate_name_month_yyyy_mm", name=name, value=value)
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def _month_label(abs_month: int) -> str:
    return f"{abs_month // 12:04d}-{abs_month % 12 + 1:02d}"


def _reference_tables() -> tuple[list[str], list[str]]:
    cat_codes, region_names = list(categories()), list(regions())
    for what, shipped, known in (("category", cat_codes, _CATEGORIES), ("region", region_names, _REGIONS)):
        if set(shipped) != set(known):
            diff = sorted(set(shipped) ^ set(known))
            raise ConfigError(f"data/{what} list and synth's {what} profiles differ: {', '.join(diff)}", key="err_generate_data_what_list_synth", what=what, diff=', '.join(diff))
    return cat_codes, region_names


def snapshot_months(n_months: int, end_month: str = "2026-10") -> list[str]:
    """Snapshot months of the outcomes table for a book of ``n_months`` ending ``end_month``.

    Every third month counting back from 12 months before the end, keeping those with at least six
    months of book up to and including them; the last month alone when none qualifies.
    """
    n_months = _check_int("n_months", n_months, 1, 120)
    end = _parse_month("end_month", end_month)
    return [_month_label(end - n_months + 1 + t) for t in _snapshot_indices(n_months)]


def _snapshot_indices(n_months: int) -> list[int]:
    found = list(range(n_months - 13, 4, -3))[::-1]
    return found or [n_months - 1]


# --------------------------------------------------------------------------- merchants

def _draw_merchants(rng: np.random.Generator, n: int, n_months: int, end_abs: int,
                    cat_codes: list[str], region_names: list[str]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The merchants table and the hidden per-merchant parameters that drive the simulation."""
    f32 = np.float32
    cats = [_CATEGORIES[c] for c in cat_codes]
    share = np.array([c.share for c in cats])
    cat = rng.choice(len(cats), size=n, p=share / share.sum())
    reg_w = np.array([_REGIONS[r][0] for r in region_names])
    region = rng.choice(len(region_names), size=n, p=reg_w / reg_w.sum())
    q = rng.standard_normal(n)

    # platform tenure: ~15% joined within the last 6 months, the rest earlier (mean ~3 years)
    recent = rng.random(n) < 0.15
    months_before_end = np.where(recent, rng.integers(0, 6, n),
                                 6 + np.minimum(rng.exponential(48.0, n), 233.0).astype(np.int64))
    join_abs = end_abs - months_before_end
    month_start = _month_start_days(join_abs)
    days_in_month = (_month_start_days(join_abs + 1) - month_start).astype(np.int64)
    joined = month_start + (rng.random(n) * days_in_month).astype(np.int64)
    started_to_sell = rng.random(n) < 0.4  # opened the business to sell online
    lead_days = np.where(started_to_sell, rng.integers(0, 61, n),
                         np.minimum(rng.exponential(48 * 30.44, n), 360 * 30.44).astype(np.int64))
    opened = joined - lead_days
    end_day = _month_start_days(np.array([end_abs + 1]))[0] - 1
    business_age_months = (end_day - opened).astype(np.int64) / 30.44
    owner_age = 24 + 41 * rng.beta(2.0, 2.5, n)

    thin = rng.random(n) < _sigmoid(-1.2 + 1.6 * (owner_age < 30) + 0.8 * (business_age_months < 24) - 0.25 * q)
    bureau = np.clip(np.rint(760 + 95 * (0.55 * q + 0.835 * rng.standard_normal(n)) + 1.5 * (owner_age - 45)),
                     1, 1000).astype(np.int64)
    card = rng.random(n) < _sigmoid(1.6 + 0.5 * q - 1.4 * thin)
    card_missing = rng.random(n) < 0.03
    income_base = np.array([_REGIONS[r][1] for r in region_names], dtype=float)
    income = np.round(np.clip(income_base[region] + rng.normal(0, 6, n), 60, 160), 1)

    names = _business_names(rng, cat, cat_codes)
    owners = _owner_names(rng, n)
    reg_nos = _business_reg_nos(rng, n)
    merchants = pd.DataFrame({
        "merchant_id": _to_str_series(_merchant_ids(n)),
        "business_name": _to_str_series(names),
        "owner_name": _to_str_series(owners),
        "business_reg_no": _to_str_series(reg_nos),
        "category": _to_str_series(pa.array(cat_codes).take(cat)),
        "region": _to_str_series(pa.array(region_names).take(region)),
        "opened_on": _to_str_series(_date_strings(opened)),
        "joined_platform_on": _to_str_series(_date_strings(joined)),
        "bureau_score": pd.arrays.IntegerArray(bureau, thin.copy()),
        "owner_has_credit_card": pd.arrays.BooleanArray(card, card_missing),
        "region_income_index": income,
    }, columns=list(MERCHANT_COLUMNS))

    # hidden behaviour, tilted by quality q
    ticket_cat = np.array([c.ticket_krw for c in cats])[cat]
    size_z = rng.standard_normal(n)
    log_base = np.log(900_000) + 1.35 * size_z + 0.15 * q + 0.3 * np.log(ticket_cat / 40_000)
    power_seller = rng.random(n) < 0.01
    log_base += np.where(power_seller, np.log1p(np.minimum(5 * rng.pareto(1.3, n), 300)), 0.0)
    traj_logits = np.stack([np.log(0.20) + 0.3 * q, np.full(n, np.log(0.50)),
                            np.log(0.18) - 0.4 * q, np.log(0.12) - 0.6 * q])
    traj_p = np.exp(traj_logits) / np.exp(traj_logits).sum(axis=0)
    trajectory = (rng.random(n) > np.cumsum(traj_p, axis=0)).sum(axis=0)  # 0 grow 1 steady 2 decline 3 churn
    slope = np.select([trajectory == 0, trajectory == 2],
                      [rng.uniform(0.01, 0.04, n), -rng.uniform(0.01, 0.04, n)], rng.normal(0, 0.004, n))
    join_t = join_abs - (end_abs - n_months + 1)
    first = np.maximum(join_t, 0)
    churner = trajectory == 3
    churn_t = np.where(churner, first + (rng.random(n) * (n_months - first + 12)).astype(np.int64), 10_000)
    sales_stop_t = churn_t + 1 + rng.integers(0, 5, n)
    rows_stop = churner & (rng.random(n) < 0.65)
    last = np.where(rows_stop, np.minimum(n_months - 1, sales_stop_t + rng.integers(0, 4, n)), n_months - 1)

    params = {
        "cat": cat, "first": first, "last": last, "join_t": join_t, "join_abs": join_abs,
        "bureau": np.where(thin, np.nan, bureau.astype(float)),
        "log_base": log_base.astype(f32), "slope": slope.astype(f32), "churn_t": churn_t,
        "fade": rng.uniform(0.25, 0.7, n).astype(f32), "sales_stop_t": sales_stop_t,
        "declining": trajectory == 2, "churner": churner,
        "sigma": np.minimum(0.2 + 0.08 * np.exp(-0.5 * q), 0.7).astype(f32),
        "p_zero": np.minimum(0.01 * np.exp(-0.7 * q), 0.25).astype(f32),
        "ticket": (ticket_cat * np.exp(0.35 * rng.standard_normal(n))).astype(f32),
        "ret": (np.array([c.return_rate for c in cats])[cat]
                * np.exp(-0.3 * q + 0.3 * rng.standard_normal(n))).astype(f32),
        "disp": (0.004 * np.exp(-0.5 * q + 0.4 * rng.standard_normal(n))).astype(f32),
        "ship": np.minimum(0.05 * np.exp(-0.45 * q + 0.45 * rng.standard_normal(n)), 0.6).astype(f32),
        "rating": np.clip(4.55 + 0.18 * q + 0.12 * rng.standard_normal(n), 2.5, 4.95).astype(f32),
        "review_p": np.clip(0.12 * np.exp(0.4 * rng.standard_normal(n)), 0.01, 0.4).astype(f32),
        "buyer_p": rng.uniform(0.8, 0.97, n).astype(f32),
        "repeat": np.minimum(np.array([c.repeat_rate for c in cats])[cat]
                             * np.exp(0.25 * q + 0.3 * rng.standard_normal(n)), 0.8).astype(f32),
        "listings": np.exp(np.log(25) + 0.45 * (log_base - np.log(900_000))
                           + 0.6 * rng.standard_normal(n)).astype(f32),
        "depth": np.exp(np.log(4) + 0.5 * rng.standard_normal(n)).astype(f32),
        "conv": rng.uniform(0.02, 0.05, n).astype(f32),
        "ad_share": np.where(rng.random(n) < _sigmoid(0.2 + 0.5 * size_z), rng.uniform(0.02, 0.09, n), 0.0).astype(f32),
        "fee": (np.array([c.commission for c in cats])[cat] + rng.uniform(0.015, 0.025, n)).astype(f32),
        "noise": rng.standard_normal(n).astype(f32),
    }
    return merchants, params


# --------------------------------------------------------------------------- the book

def generate_book(n_merchants: int, n_months: int = 24, seed: int = 7, end_month: str = "2026-10") -> Book:
    """A synthetic merchant book whose true probability of default is known.

    Parameters
    ----------
    n_merchants : int
        Merchants to generate (at least 1).
    n_months : int
        Months of activity, 1–120, ending with ``end_month``.
    seed : int
        Non-negative random seed; the same seed gives identical tables.
    end_month : str
        Last month of activity, ``YYYY-MM``.

    Returns
    -------
    Book
        ``merchants``, ``activity`` (the ``monthly_activity`` table, sorted by merchant and month)
        ``outcomes`` (with the extra ``true_pd`` column), ``bureau_history`` and ``default_events``
        (see the module docstring), ``source="demo:seed=<seed>"``.

    Raises
    ------
    ConfigError
        If a parameter is out of range.
    """
    n = _check_int("n_merchants", n_merchants, 1)
    n_months = _check_int("n_months", n_months, 1, 120)
    seed = _check_int("seed", seed, 0)
    end_abs = _parse_month("end_month", end_month)
    cat_codes, region_names = _reference_tables()
    start_abs = end_abs - n_months + 1
    merchant_seq, activity_seq, outcome_seq = np.random.SeedSequence(seed).spawn(3)

    merchants, params = _draw_merchants(np.random.default_rng(merchant_seq), n, n_months, end_abs,
                                        cat_codes, region_names)
    season = _seasonality(cat_codes, start_abs, n_months)
    cols, offsets = _simulate_activity(activity_seq, params, n_months, season)
    first = params["first"]
    lengths = params["last"] - first + 1
    row_merchant = np.repeat(np.arange(n, dtype=np.int32), lengths)
    row_t = (np.arange(len(row_merchant), dtype=np.int64) - np.repeat(offsets - first, lengths)).astype(np.int32)
    del lengths

    snapshots = _snapshot_indices(n_months)
    default_seq, collapse_seq = outcome_seq.spawn(2)
    default_t = _draw_default_months(np.random.default_rng(default_seq), row_merchant, row_t, cols, params,
                                     start_abs, n_months, max(snapshots) + 12, cat_codes)
    keep = _collapse(np.random.default_rng(collapse_seq), row_merchant, row_t, cols, default_t, params["fee"])
    if not keep.all():
        row_merchant, row_t = row_merchant[keep], row_t[keep]
        cols = {k: v[keep] for k, v in cols.items()}

    ids = _merchant_ids(n)
    month_labels = pa.array([_month_label(start_abs + t) for t in range(n_months)])
    outcomes = _draw_outcomes(np.random.default_rng(outcome_seq), ids, month_labels, row_merchant, row_t, cols,
                              params, start_abs, snapshots, default_t, cat_codes)
    activity = {"merchant_id": _to_str_series(ids.take(row_merchant)),
                "month": _to_str_series(month_labels.take(row_t))}
    del row_merchant, row_t
    activity.update(cols)
    activity = pd.DataFrame(activity, columns=list(ACTIVITY_COLUMNS), copy=False)
    bureau_history = pd.DataFrame({
        "merchant_id": merchants["merchant_id"], "month": _to_str_series(month_labels.take(first)),
        "bureau_score": merchants["bureau_score"], "owner_has_credit_card": merchants["owner_has_credit_card"],
    }, columns=list(BUREAU_HISTORY_COLUMNS))
    events = _default_events(ids, default_t, [_month_label(start_abs + t) for t in range(max(snapshots) + 13)])
    # a small book may have no default at all: no table then (a written empty table is refused on reading)
    return Book(merchants=merchants, activity=activity, outcomes=outcomes, bureau_history=bureau_history,
                source=f"demo:seed={seed}", default_events=events if len(events) else None)
