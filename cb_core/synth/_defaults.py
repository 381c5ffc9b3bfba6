"""Persistent default events of the synthetic book (documented in :mod:`cb_core.synth.generate`):
at most one default month per merchant, drawn from its monthly hazard path, and the collapse of
its activity afterwards."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..data import DEFAULT_EVENT_COLUMNS, OUTCOME_COLUMNS
from ._names import _to_str_series
from ._pd import _PD_INPUTS, _true_pd

#: Sales left in the default month, and the share kept each further month.
COLLAPSE_LEVEL: float = 0.45
COLLAPSE_DECAY: float = 0.6
#: Chance that a defaulted store closes (zero sales, then no rows) 1–4 months after defaulting.
CLOSE_SHARE: float = 0.4
#: Extra dispute rate and shipping-delay rate after a default.
DISPUTE_RISE: float = 0.06
DELAY_RISE: float = 0.15
NO_DEFAULT = -1


def monthly_hazard(pd_12m: np.ndarray) -> np.ndarray:
    """The constant monthly hazard whose 12 months compound to ``pd_12m``: ``1 - (1 - PD)^(1/12)``."""
    return 1.0 - (1.0 - pd_12m) ** (1.0 / 12.0)


def _draw_default_months(rng: np.random.Generator, row_merchant: np.ndarray, row_t: np.ndarray,
                         cols: dict[str, np.ndarray], params: dict[str, np.ndarray], start_abs: int,
                         n_months: int, horizon_end: int, cat_codes: list[str]) -> np.ndarray:
    """Each merchant's default month (book month index; :data:`NO_DEFAULT` for none).

    Month ``m`` has hazard :func:`monthly_hazard` of the true PD as of month ``m - 1`` (the last one
    the merchant had a row; from the book's last month on, that month's), for merchants that
    joined by ``m - 1``. The first month whose uniform draw falls below its hazard is the default.
    Months up to ``horizon_end`` (past the book's end when an outcome window reaches beyond it)."""
    n = len(params["first"])
    values = {c: cols[c] for c in _PD_INPUTS}
    row_month = row_t + np.int32(start_abs)
    last_pd = np.full(n, np.nan)
    default_t = np.full(n, NO_DEFAULT, dtype=np.int64)
    for m in range(1, horizon_end + 1):
        if m - 1 < n_months:
            pd_prev, active = _true_pd(row_merchant, row_month, values, n, start_abs + m - 1, params["join_abs"],
                                       params["bureau"], params["cat"], cat_codes)
            last_pd = np.where(active, pd_prev, last_pd)
        u = rng.random(n)
        at_risk = (default_t == NO_DEFAULT) & ~np.isnan(last_pd)
        default_t[at_risk & (u < monthly_hazard(np.nan_to_num(last_pd)))] = m
    return default_t


def _collapse(rng: np.random.Generator, row_merchant: np.ndarray, row_t: np.ndarray, cols: dict[str, np.ndarray],
              default_t: np.ndarray, fee: np.ndarray) -> np.ndarray:
    """Activity from the default month on, in place: sales fall to :data:`COLLAPSE_LEVEL` and keep
    falling by :data:`COLLAPSE_DECAY` a month (orders, buyers, reviews, returns thinned alike),
    dispute and delay rates rise, ads stop; :data:`CLOSE_SHARE` of defaulted stores close.

    Returns the mask of rows kept (a closed store keeps one zero-sales row, then has none)."""
    n = len(default_t)
    closes = (rng.random(n) < CLOSE_SHARE) & (default_t != NO_DEFAULT)
    close_t = np.where(closes, default_t + rng.integers(1, 5, n), np.iinfo(np.int64).max)
    d = default_t[row_merchant]
    post = np.flatnonzero((d != NO_DEFAULT) & (row_t >= d))
    keep = np.ones(len(row_t), dtype=bool)
    if len(post) == 0:
        return keep
    who, t = row_merchant[post], row_t[post].astype(np.int64)
    shut = t >= close_t[who]
    keep[post[t > close_t[who]]] = False
    f = np.where(shut, 0.0, COLLAPSE_LEVEL * COLLAPSE_DECAY ** (t - default_t[who]))
    c = {k: v[post] for k, v in cols.items()}
    orders = rng.binomial(c["orders"], f)
    ratio = orders / np.maximum(c["orders"], 1)
    gmv = np.where(orders > 0, np.maximum(np.rint(c["gmv_krw"] * ratio / 10) * 10, 10), 0).astype(np.int64)
    returns = np.minimum(rng.binomial(c["returns"], f), orders)
    refund = np.minimum(np.floor(c["refund_krw"] * ratio / 10) * 10, gmv).astype(np.int64)
    buyers = np.clip(rng.binomial(c["unique_buyers"], f), orders > 0, orders)
    reviews = np.minimum(rng.binomial(c["reviews"], f), orders)
    dispute_rate = np.clip(c["disputes"] / np.maximum(c["orders"], 1) + DISPUTE_RISE, 0, 1)
    listings = np.maximum(np.rint(c["active_listings"] * np.sqrt(f)), orders > 0).astype(np.int64)
    cols["orders"][post] = orders
    cols["gmv_krw"][post] = gmv
    cols["returns"][post] = returns
    cols["refund_krw"][post] = refund
    cols["unique_buyers"][post] = buyers
    cols["repeat_buyer_rate"][post] = np.where(buyers > 0, c["repeat_buyer_rate"], 0.0)
    cols["active_listings"][post] = listings
    cols["inventory_turnover"][post] = np.round(c["inventory_turnover"] * ratio, 3)
    cols["reviews"][post] = reviews
    cols["avg_rating"][post] = np.where(reviews > 0, np.round(np.clip(c["avg_rating"] - 0.5, 1, 5), 2), np.nan)
    cols["disputes"][post] = rng.binomial(orders, dispute_rate)
    cols["ship_delay_rate"][post] = np.where(orders > 0, np.clip(c["ship_delay_rate"] + DELAY_RISE, 0, 1), 0.0)
    cols["settlement_krw"][post] = np.rint((gmv - refund) * (1.0 - fee[who].astype(np.float64))).astype(np.int64)
    cols["search_clicks"][post] = rng.binomial(c["search_clicks"], f)
    cols["ad_spend_krw"][post] = 0
    return keep


def _default_events(ids: pa.Array, default_t: np.ndarray, month_labels: list[str]) -> pd.DataFrame:
    """The ``default_events`` table: ``merchant_id`` and ``default_month`` of every merchant with a
    default month, in merchant order; ``month_labels`` names the month indices (past the book's end too)."""
    defaulted = np.flatnonzero(default_t != NO_DEFAULT)
    return pd.DataFrame({"merchant_id": _to_str_series(ids.take(defaulted)),
                         "default_month": _to_str_series(pa.array(month_labels).take(default_t[defaulted]))},
                        columns=list(DEFAULT_EVENT_COLUMNS))


#: Share of merchants with a loan at each snapshot (a draw per merchant and snapshot).
LOAN_SHARE: float = 0.6


def _draw_outcomes(rng: np.random.Generator, ids: pa.Array, month_labels: pa.Array, row_merchant: np.ndarray,
                   row_t: np.ndarray, cols: dict[str, np.ndarray], params: dict[str, np.ndarray], start_abs: int,
                   snapshots: list[int], default_t: np.ndarray, cat_codes: list[str]) -> pd.DataFrame:
    """The outcomes table: one row per snapshot for eligible merchants with a loan, not yet in
    default; ``defaulted_12m`` is 1 when the default month falls in the 12 months after."""
    n = len(ids)
    row_month = row_t + np.int32(start_abs)
    values = {c: cols[c] for c in _PD_INPUTS}
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    for t in snapshots:
        pd_all, active = _true_pd(row_merchant, row_month, values, n, start_abs + t, params["join_abs"],
                                  params["bureau"], params["cat"], cat_codes)
        had_loan = rng.random(n) < LOAN_SHARE
        not_yet = (default_t == NO_DEFAULT) | (default_t > t)
        defaulted = (default_t > t) & (default_t <= t + 12)
        who = np.flatnonzero(active & (params["first"] <= t - 2) & had_loan & not_yet)
        parts.append((who, t, defaulted[who].astype(np.int64), pd_all[who]))
    who = np.concatenate([p[0] for p in parts])
    snapshot_t = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int64) for p in parts])
    return pd.DataFrame({
        "merchant_id": _to_str_series(ids.take(who)),
        "snapshot_month": _to_str_series(month_labels.take(snapshot_t)),
        "defaulted_12m": np.concatenate([p[2] for p in parts]),
        "true_pd": np.concatenate([p[3] for p in parts]),
    }, columns=[*OUTCOME_COLUMNS, "true_pd"])
