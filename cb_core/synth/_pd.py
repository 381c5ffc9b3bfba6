"""The true probability-of-default function of the synthetic book (documented in :mod:`cb_core.synth.generate`)."""
from __future__ import annotations

import numpy as np

PD_COEFFICIENTS: dict[str, float] = {
    "intercept": -4.7, "trend": -0.7, "return": 5.0, "dispute": 20.0, "volatility": 0.8,
    "short_tenure": 0.9, "zero_months": 0.2, "low_rating": 0.8, "no_reviews": 0.35,
    "ship_delay": 3.0, "repeat": -1.8, "bureau": -0.55, "thin_file": 0.35, "scale": -0.3,
}
CATEGORY_PD_EFFECT: dict[str, float] = {
    "fashion": 0.15, "beauty": 0.0, "food": -0.10, "living": -0.05, "digital": 0.10,
    "furniture": 0.20, "kids": -0.05, "sports": 0.05, "pets": -0.10, "hobby": 0.0,
}

_PD_INPUTS = ("gmv_krw", "orders", "returns", "disputes", "reviews", "avg_rating", "ship_delay_rate",
              "repeat_buyer_rate", "unique_buyers")


def _pd_drivers(row_merchant: np.ndarray, row_month: np.ndarray, values: dict[str, np.ndarray],
                n: int, as_of: int, join_abs: np.ndarray, bureau: np.ndarray) -> dict[str, np.ndarray]:
    """The PD drivers of every merchant at absolute month ``as_of`` (see the module docstring).

    ``row_merchant`` (merchant position) and ``row_month`` (absolute month) locate each row of
    ``values``; rows outside the 12-month window are ignored. Aggregates are taken over dense
    (month, merchant) matrices so the result does not depend on row order.
    """
    lo = as_of - 11
    sel = np.flatnonzero((row_month >= lo) & (row_month <= as_of))
    slot, who = (row_month[sel] - lo).astype(np.intp), row_merchant[sel]
    present = np.zeros((12, n), dtype=bool)
    present[slot, who] = True
    gmv = np.zeros((12, n))
    gmv[slot, who] = values["gmv_krw"][sel]
    last6 = slot >= 6
    slot6, who6, rows6 = slot[last6] - 6, who[last6], sel[last6]

    def sum_6m(column: np.ndarray) -> np.ndarray:
        dense = np.zeros((6, n))
        dense[slot6, who6] = column
        return dense.sum(axis=0)

    taken = {c: values[c][rows6] for c in _PD_INPUTS[1:]}
    orders = sum_6m(taken["orders"])
    reviews = sum_6m(taken["reviews"])
    rating_x_reviews = sum_6m(np.where(taken["reviews"] > 0, taken["avg_rating"] * taken["reviews"], 0.0))
    buyers = sum_6m(taken["unique_buyers"])

    n_rows = present.sum(axis=0)
    gmv_3m, gmv_prior = gmv[9:].sum(axis=0), gmv[6:9].sum(axis=0)
    trend = np.where(present[6:9].any(axis=0), np.log((gmv_3m + 3e5) / (gmv_prior + 3e5)), 0.0)
    mean = gmv.sum(axis=0) / np.maximum(n_rows, 1)
    var = (np.where(present, gmv - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n_rows, 1)
    cv = np.where(mean > 0, np.sqrt(var) / np.where(mean > 0, mean, 1.0), 2.0)
    avg_3m = gmv_3m / np.maximum(present[9:].sum(axis=0), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rating = rating_x_reviews / reviews
    thin = np.isnan(bureau)
    return {
        "active": present[11],
        "trend": np.clip(trend, -2.0, 1.0),
        "return": np.clip(sum_6m(taken["returns"]) / np.maximum(orders, 1), 0, 0.5),
        "dispute": np.clip(sum_6m(taken["disputes"]) / np.maximum(orders, 1), 0, 0.1),
        "volatility": np.clip(cv, 0, 2.0),
        "short_tenure": np.clip(12 - (as_of - join_abs), 0, 12) / 12.0,
        "zero_months": np.minimum((present & (gmv == 0)).sum(axis=0), 6).astype(np.float64),
        "low_rating": np.where(reviews > 0, np.clip(4.5 - rating, 0, 2.0), 0.0),
        "no_reviews": (reviews == 0).astype(np.float64),
        "ship_delay": np.clip(sum_6m(taken["ship_delay_rate"] * taken["orders"]) / np.maximum(orders, 1), 0, 0.6),
        "repeat": sum_6m(taken["repeat_buyer_rate"] * taken["unique_buyers"]) / np.maximum(buyers, 1),
        "bureau": np.where(thin, 0.0, np.clip((np.where(thin, 750.0, bureau) - 750) / 100, -4, 2.5)),
        "thin_file": thin.astype(np.float64),
        "scale": np.log10(np.clip(avg_3m, 1e4, 1e9)) - 6.0,
    }


def _pd_from_drivers(drivers: dict[str, np.ndarray], category_effect: np.ndarray) -> np.ndarray:
    logit = PD_COEFFICIENTS["intercept"] + category_effect
    for name, coefficient in PD_COEFFICIENTS.items():
        if name != "intercept":
            logit = logit + coefficient * drivers[name]
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -8.0, 3.0)))


def _true_pd(row_merchant: np.ndarray, row_month: np.ndarray, values: dict[str, np.ndarray], n: int,
             as_of: int, join_abs: np.ndarray, bureau: np.ndarray, cat: np.ndarray,
             cat_codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """True PD of every merchant at ``as_of`` and whether it has a row that month."""
    drivers = _pd_drivers(row_merchant, row_month, values, n, as_of, join_abs, bureau)
    effect = np.array([CATEGORY_PD_EFFECT[c] for c in cat_codes])[cat]
    return _pd_from_drivers(drivers, effect), drivers["active"]
