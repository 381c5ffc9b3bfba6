"""Monthly activity simulation of the synthetic book (see :mod:`cb_core.synth.generate`)."""
from __future__ import annotations

import numpy as np

_MONEY_COUNT = ("gmv_krw", "orders", "returns", "refund_krw", "unique_buyers", "active_listings", "reviews",
                "disputes", "settlement_krw", "search_clicks", "ad_spend_krw")
_RATES = ("repeat_buyer_rate", "inventory_turnover", "avg_rating", "ship_delay_rate")
_AR_RHO = np.float32(0.55)


def _simulate_activity(seed_seq: np.random.SeedSequence, p: dict[str, np.ndarray], n_months: int,
                       season: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Monthly activity, merchant-major (rows of a merchant are contiguous, months ascending).

    Returns the column arrays and each merchant's offset of its first row.
    """
    first, last = p["first"], p["last"]
    lengths = last - first + 1
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    n_rows = int(lengths.sum())
    cols = {c: np.empty(n_rows, dtype=np.int64) for c in _MONEY_COUNT}
    cols.update({c: np.empty(n_rows, dtype=np.float64) for c in _RATES})
    noise = p["noise"]
    for t, month_seq in enumerate(seed_seq.spawn(n_months)):
        rng = np.random.default_rng(month_seq)
        idx = np.flatnonzero((first <= t) & (last >= t))
        m = len(idx)
        noise[idx] = _AR_RHO * noise[idx] + np.sqrt(1 - _AR_RHO ** 2) * rng.standard_normal(m, dtype=np.float32)
        age = (t - p["join_t"][idx]).astype(np.float64)
        traj = np.clip(p["slope"][idx] * (t - first[idx]), -3.0, 2.3)
        since_churn = np.maximum(t - p["churn_t"][idx], 0)
        traj = traj - p["fade"][idx] * since_churn
        stopped = t >= p["sales_stop_t"][idx]
        distress = 1.0 + 0.8 * (since_churn > 0) + 0.3 * p["declining"][idx]
        ramp = np.log1p(-0.85 * np.exp(-age / 3.0))  # new sellers start at ~15% of their level
        mu = np.exp(p["log_base"][idx] + traj + np.log(season[p["cat"][idx], t]) + ramp
                    + p["sigma"][idx] * noise[idx])
        ticket = p["ticket"][idx].astype(np.float64)
        expected_orders = mu / ticket
        zero = stopped | (rng.random(m) < p["p_zero"][idx])
        orders = np.where(zero, 0, rng.poisson(expected_orders))
        gmv = (np.rint(orders * ticket * np.exp(0.06 * rng.standard_normal(m)) / 10) * 10).astype(np.int64)
        safe_orders = np.maximum(orders, 1)
        returns = rng.binomial(orders, np.clip(p["ret"][idx] * np.exp(0.25 * rng.standard_normal(m)), 0, 0.8))
        refund = (np.floor(gmv * (returns / safe_orders) * rng.uniform(0.85, 1.0, m) / 10) * 10).astype(np.int64)
        buyers = np.maximum(rng.binomial(orders, p["buyer_p"][idx]), orders > 0)
        repeat_p = np.clip(p["repeat"][idx] * (1 - np.exp(-(age + 1) / 4.0)), 0, 0.95)
        repeaters = rng.binomial(buyers, repeat_p)
        listings = np.rint(p["listings"][idx] * np.exp(0.5 * traj + 0.05 * rng.standard_normal(m))
                           * (1 - 0.6 * np.exp(-age / 2.0))).astype(np.int64)
        listings = np.maximum(listings, orders > 0)  # selling needs a listing
        reviews = rng.binomial(orders, p["review_p"][idx])
        rating = np.clip(p["rating"][idx] - 0.25 * (distress - 1)
                         + 0.5 * rng.standard_normal(m) / np.sqrt(np.maximum(reviews, 1)), 1, 5)
        disputes = np.minimum(rng.poisson(orders * p["disp"][idx] * distress * np.exp(0.3 * rng.standard_normal(m))),
                              orders)
        delayed = rng.binomial(orders, np.clip(p["ship"][idx] * distress * np.exp(0.3 * rng.standard_normal(m)), 0, 1))
        clicks = rng.poisson(expected_orders / p["conv"][idx] * np.exp(0.1 * rng.standard_normal(m)))
        ad = np.where(zero, 0.0, np.rint(mu * p["ad_share"][idx] * np.exp(0.3 * rng.standard_normal(m)) / 1000) * 1000)

        pos = offsets[idx] + (t - first[idx])
        cols["gmv_krw"][pos] = gmv
        cols["orders"][pos] = orders
        cols["returns"][pos] = returns
        cols["refund_krw"][pos] = refund
        cols["unique_buyers"][pos] = buyers
        cols["repeat_buyer_rate"][pos] = repeaters / np.maximum(buyers, 1)
        cols["active_listings"][pos] = listings
        cols["inventory_turnover"][pos] = np.round(orders / (np.maximum(listings, 1) * p["depth"][idx]), 3)
        cols["avg_rating"][pos] = np.where(reviews > 0, np.round(rating, 2), np.nan)
        cols["reviews"][pos] = reviews
        cols["disputes"][pos] = disputes
        cols["ship_delay_rate"][pos] = delayed / safe_orders
        cols["settlement_krw"][pos] = np.rint((gmv - refund) * (1.0 - p["fee"][idx].astype(np.float64)))
        cols["search_clicks"][pos] = clicks
        cols["ad_spend_krw"][pos] = ad
    return cols, offsets
