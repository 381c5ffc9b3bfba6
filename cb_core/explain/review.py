"""One merchant under review: search, monthly trends against category bands, the explanation.

Everything here touches one merchant (or a small sample near the cutoff), never the whole book's
explanations, so it stays fast at a million merchants.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import get_settings
from ..data import Book
from ..errors import ConfigError
from ..i18n import t
from .points import points_by_feature, reason_codes, reference_points

#: Monthly series shown on the review page: name -> how it is computed from an activity frame.
TREND_METRICS: tuple[str, ...] = ("gmv_krw", "orders", "return_rate", "inventory_turnover",
                                  "repeat_buyer_rate", "avg_rating", "disputes")


def find_merchants(merchants: pd.DataFrame, query: str, limit: int = 50) -> pd.DataFrame:
    """Merchants whose id starts with ``query`` or whose business name contains it (case-insensitive)."""
    q = (query or "").strip()
    if not q:
        return merchants.iloc[:0][["merchant_id", "business_name", "category", "region"]]
    ids = merchants["merchant_id"].astype(str)
    hit = ids.str.upper().str.startswith(q.upper()) | merchants["business_name"].astype(str).str.contains(
        q, case=False, regex=False)
    return merchants.loc[hit, ["merchant_id", "business_name", "category", "region"]].head(limit)


def _with_rates(activity: pd.DataFrame) -> pd.DataFrame:
    out = activity[["merchant_id", "month", "gmv_krw", "orders", "inventory_turnover", "repeat_buyer_rate",
                    "avg_rating", "disputes"]].copy()
    orders = activity["orders"].to_numpy(dtype=float)
    out["return_rate"] = np.divide(activity["returns"].to_numpy(dtype=float), orders,
                                   out=np.full(len(orders), np.nan), where=orders > 0)
    return out


def activity_of(book: Book, merchant_id: str) -> pd.DataFrame:
    """One merchant's monthly rows. A merchant -> row-positions index is built once per book, so
    each lookup is a hash probe, however large the book; while the installed book's activity is not read
    yet, the merchant's rows are read from its file alone (:meth:`~cb_core.data.Book.activity_rows`)."""
    index = getattr(book, "_activity_index", None)
    if index is None:
        alone = book.activity_rows(merchant_id)
        if alone is not None:
            return alone.sort_values("month")
        codes, uniques = pd.factorize(book.activity["merchant_id"])
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        index = (pd.Index(uniques), order, bounds)
        book._activity_index = index  # type: ignore[attr-defined]
    keys, order, bounds = index
    position = keys.get_indexer([merchant_id])[0]
    if position < 0:
        return book.activity.iloc[:0]
    rows = np.sort(order[bounds[position]:bounds[position + 1]])
    return book.activity.iloc[rows].sort_values("month")


def merchant_trends(book: Book, merchant_id: str) -> pd.DataFrame:
    """The merchant's monthly series (``TREND_METRICS``), one row per month."""
    return _with_rates(activity_of(book, merchant_id)).drop(columns="merchant_id").reset_index(drop=True)


def category_bands(book: Book, per_category: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Per category and month, the 25th/50th/75th percentile of each trend metric.

    Percentiles come from a fixed random sample of up to ``per_category`` merchants per category:
    the bands are as good as exact for a chart and cost the same at a million merchants.

    Returns
    -------
    DataFrame
        Columns ``category, month, metric, p25, p50, p75``.
    """
    merchants = book.merchants[["merchant_id", "category"]]
    sample = merchants.sample(frac=1.0, random_state=seed).groupby("category", observed=True).head(per_category)
    category = sample.set_index("merchant_id")["category"]
    activity = _sampled_activity(book, category.index)
    frame = _with_rates(activity)
    frame["category"] = frame["merchant_id"].map(category)
    parts = []
    for metric in TREND_METRICS:
        q = frame.groupby(["category", "month"], observed=True)[metric].quantile([0.25, 0.5, 0.75]).unstack()
        q.columns = ["p25", "p50", "p75"]
        parts.append(q.reset_index().assign(metric=metric))
    return pd.concat(parts, ignore_index=True)[["category", "month", "metric", "p25", "p50", "p75"]]


def _sampled_activity(book: Book, sampled: pd.Index) -> pd.DataFrame:
    """The activity rows of the ``sampled`` merchants, in the table's order: taken part by part from the installed
    book's file while its activity is not read yet (the sample's rows only are kept, not the 18M rows of
    1,000,000 merchants), else from :attr:`~cb_core.data.Book.activity`."""
    parts = book.activity_parts()
    if parts is None:
        return book.activity[book.activity["merchant_id"].isin(sampled)]
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = pa.array(sampled.astype(str).to_numpy(dtype=object), pa.large_string())
    kept = [part.filter(pc.is_in(part["merchant_id"], value_set=wanted.cast(part.schema.field("merchant_id").type)))
            for part in parts]
    return pa.concat_tables(kept).to_pandas() if kept else book.activity.iloc[:0]


def cutoff_reference(model, snapshot: pd.DataFrame, scores: pd.DataFrame, cutoff: float,
                     band: float | None = None, sample: int = 400, seed: int = 0) -> pd.Series:
    """Mean points of (a sample of) the merchants scoring within ``band`` points above ``cutoff``
    (the approval cutoff of the policy in force): what reason codes compare a merchant with.

    ``band`` defaults to the ``reason_band`` setting. Only up to ``sample`` merchants are
    explained, so this costs well under a second at any book size.
    """
    band = get_settings().reason_band if band is None else band
    s = scores["score"]
    near = s.index[(s >= cutoff) & (s <= cutoff + band)]
    pool = near if len(near) else s.index  # empty band: reference_points falls back to the mean
    if len(pool) > sample:
        pool = pd.Index(np.random.default_rng(seed).choice(pool.to_numpy(), sample, replace=False))
    pts = points_by_feature(model, snapshot.loc[pool])
    return reference_points(pts, s.loc[pool].to_numpy(), cutoff=cutoff, band=band)


def percentiles_of_row(peers: pd.DataFrame, row: pd.Series) -> pd.Series:
    """Percentile (0–100) of each numeric value of ``row`` among ``peers`` (which include it), the
    same average-rank definition as :func:`explain.peer_percentiles`, without ranking the whole group."""
    numeric = [c for c in peers.columns if pd.api.types.is_numeric_dtype(peers[c].dtype)
               and not pd.api.types.is_bool_dtype(peers[c].dtype)]
    values = peers[numeric].to_numpy(dtype=float)
    mine = row[numeric].to_numpy(dtype=float)
    present = ~np.isnan(values)
    less = (values < mine).sum(axis=0)
    equal = (values == mine).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = (less + (equal + 1) / 2) / present.sum(axis=0) * 100
    pct = np.where(np.isnan(mine), np.nan, pct)
    return pd.Series(pct, index=numeric).reindex(peers.columns)


@dataclass
class MerchantExplanation:
    """Score and reasons of one merchant."""

    merchant_id: str
    values: pd.Series
    pd: float
    score: int
    grade: int
    points: pd.Series          # base_points and points__<feature>
    reasons: pd.DataFrame      # see explain.reason_codes
    percentiles: pd.Series     # peer percentile of each feature within the category


def explain_merchant(model, snapshot: pd.DataFrame, merchant_id: str, reference: pd.Series,
                     lang: str = "ko", k: int = 4) -> MerchantExplanation:
    """Points, reason codes and peer percentiles of one merchant."""
    if merchant_id not in snapshot.index:
        raise ConfigError(f"merchant {merchant_id!r} has no activity up to the book's last month", key="err_review_merchant_merchant_id_activity", merchant_id=merchant_id)
    row = snapshot.loc[[merchant_id]]
    points = points_by_feature(model, row).iloc[0]
    scored = model.score(row).iloc[0]
    peers = snapshot.loc[snapshot["category"] == row["category"].iloc[0]]
    pct = percentiles_of_row(peers, row.iloc[0])
    reasons = reason_codes(model, points, row.iloc[0], reference_points=reference, peer_percentiles=pct,
                           lang=lang, k=k)
    return MerchantExplanation(merchant_id, row.iloc[0], float(scored["pd"]), int(scored["score"]),
                               int(scored["grade"]), points, reasons, pct)


def waterfall_table(model, points: pd.Series, lang: str = "ko", top: int = 8) -> pd.DataFrame:
    """Steps from base points to the score: the ``top`` features by |points|, the rest summed.

    Returns
    -------
    DataFrame
        ``label, points, measure`` with measure ``absolute`` (base), ``relative`` (steps) and
        ``total`` (the score before rounding and clipping).
    """
    feats = [c for c in points.index if c.startswith("points__")]
    contrib = points[feats].astype(float)
    order = contrib.abs().sort_values(ascending=False).index
    shown, rest = order[:top], order[top:]
    rows = [{"label": t("wf_base", lang), "points": float(points["base_points"]),
             "measure": "absolute"}]
    for c in shown:
        rows.append({"label": model.feature_label(c[len("points__"):], lang), "points": float(contrib[c]),
                     "measure": "relative"})
    if len(rest):
        rows.append({"label": t("wf_others", lang, n=len(rest)),
                     "points": float(contrib[rest].sum()), "measure": "relative"})
    rows.append({"label": t("wf_score", lang),
                 "points": float(points["base_points"] + contrib.sum()), "measure": "total"})
    return pd.DataFrame(rows)
