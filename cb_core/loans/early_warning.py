"""Early warning: every open loan checked, as of a month, against triggers from its merchant's own
recent months, its grade and its repayment.

Triggers (keys as in ``data/i18n/loans.json``, ``loans_trigger_<key>``), all as of month ``T``:

``past_due``        days past due > 0 at ``T``.
``sales_drop``      sales of ``T-2..T`` at most 60% of the same three months a year earlier (when the
                    merchant has all three; seasonality-aware), else of ``T-5..T-3``; a month without
                    an activity row counts as no sales; needs sales in the earlier window.
``refund_spike``    refunds / sales in ``T`` at least 5% and at least twice the ratio over ``T-6..T-1``.
``dispute_spike``   at least 2 disputes in ``T`` and disputes per order at least three times the
                    rate over ``T-6..T-1``.
``rating_collapse`` review-weighted rating of ``T-2..T`` at least 0.5 below that of ``T-8..T-3``
                    (reviews in both windows).
``grade_down``      the model's grade at ``T`` (re-scored on the as-of snapshot) two or more grades
                    worse than the same model's grade on the booking month's snapshot (needs a
                    model; optionally against the recorded ``grade_at_booking``).
``behind_minimum``  a daily-settlement advance at least ``min_payment_every_days`` old whose
                    payments over the last ``min_payment_every_days`` (in whole months, at least 1)
                    are below ``min_payment_pct`` of what it owed at booking (advance plus fee).

Severity: **high** at 30+ days past due or with three or more trigger points, **medium** with two,
**low** with one; 1–29 days past due is two points, any other trigger one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import TERMINAL_STATUSES, Book
from ..features import month_index, month_label, snapshot
from ..offers import load_products

__all__ = ["SEVERITIES", "TRIGGERS", "WATCHLIST_COLUMNS", "watchlist"]

WATCHLIST_COLUMNS: tuple[str, ...] = ("loan_id", "merchant_id", "triggers", "severity", "months_since_booking",
                                      "balance_krw")
TRIGGERS: tuple[str, ...] = ("past_due", "sales_drop", "refund_spike", "dispute_spike", "rating_collapse",
                             "grade_down", "behind_minimum")
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
SALES_DROP_RATIO = 0.6


def _window(matrix: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Sum over columns lo..hi (relative indices into the matrix; missing months count 0)."""
    return np.nansum(matrix[:, lo:hi + 1], axis=1)


def _activity_matrices(book: Book, merchants: pd.Index, first: int, last: int,
                       columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """(merchant x month) matrices of ``columns`` over months ``first..last`` (NaN without a row)."""
    act = book.activity
    mine = act[act["merchant_id"].isin(merchants).to_numpy()]  # the loans' merchants first: month text is slow
    period = np.asarray(month_index(mine["month"].astype(str)))
    keep = (period >= first) & (period <= last)
    rows = merchants.get_indexer(mine["merchant_id"][keep])
    out = {}
    for column in columns:
        matrix = np.full((len(merchants), last - first + 1), np.nan)
        matrix[rows, period[keep] - first] = mine[column].to_numpy(dtype=float, na_value=np.nan)[keep]
        out[column] = matrix
    return out


def _activity_triggers(book: Book, merchants: pd.Index, t: int) -> dict[str, np.ndarray]:
    first = t - 14
    m = _activity_matrices(book, merchants, first, t, ("gmv_krw", "refund_krw", "orders", "disputes", "avg_rating",
                                                        "reviews"))
    T = t - first  # index of month T
    gmv = m["gmv_krw"]
    recent = _window(gmv, T - 2, T)
    year_ago_seen = ~np.isnan(gmv[:, T - 14:T - 11]).any(axis=1)
    earlier = np.where(year_ago_seen, _window(gmv, T - 14, T - 12), _window(gmv, T - 5, T - 3))
    sales_drop = (earlier > 0) & (recent <= SALES_DROP_RATIO * earlier)
    with np.errstate(divide="ignore", invalid="ignore"):
        refund_now = m["refund_krw"][:, T] / gmv[:, T]
        refund_before = _window(m["refund_krw"], T - 6, T - 1) / _window(gmv, T - 6, T - 1)
        refund_spike = (refund_now >= 0.05) & (refund_now >= 2 * np.nan_to_num(refund_before))
        disputes_now = m["disputes"][:, T]
        rate_now = disputes_now / m["orders"][:, T]
        rate_before = _window(m["disputes"], T - 6, T - 1) / _window(m["orders"], T - 6, T - 1)
        dispute_spike = (disputes_now >= 2) & (rate_now >= 3 * np.nan_to_num(rate_before))
        weighted = np.nan_to_num(m["avg_rating"]) * np.nan_to_num(m["reviews"])
        rating_now = _window(weighted, T - 2, T) / _window(m["reviews"], T - 2, T)
        rating_before = _window(weighted, T - 8, T - 3) / _window(m["reviews"], T - 8, T - 3)
        rating_collapse = rating_now <= rating_before - 0.5
    return {"sales_drop": sales_drop, "refund_spike": np.nan_to_num(refund_spike).astype(bool),
            "dispute_spike": np.nan_to_num(dispute_spike).astype(bool),
            "rating_collapse": np.nan_to_num(rating_collapse).astype(bool)}


def _behind_minimum(book: Book, open_loans: pd.DataFrame, t: int, products: pd.DataFrame) -> np.ndarray:
    p = products.set_index("product_id")
    out = np.zeros(len(open_loans), dtype=bool)
    if "min_payment_every_days" not in p:
        return out
    terms = p.reindex(open_loans["product_id"].to_numpy())
    every = terms["min_payment_every_days"].to_numpy(dtype=float)
    judged = open_loans["repayment"].ne("amortizing").to_numpy() & ~np.isnan(every)
    if not judged.any():
        return out
    window = np.maximum(1, np.nan_to_num(every) // 30).astype(int)
    judged &= open_loans["months_since_booking"].to_numpy() >= window
    owed = open_loans["amount_krw"].to_numpy(dtype=float) * (1 + np.nan_to_num(terms["fixed_fee_pct"].to_numpy(float)) / 100)
    minimum = np.nan_to_num(terms["min_payment_pct"].to_numpy(dtype=float)) / 100 * owed
    lm = book.loan_months
    period = np.asarray(month_index(lm["month"].astype(str)))
    for k in np.unique(window[judged]):
        recent = lm[(period > t - k) & (period <= t)]
        paid = recent.groupby("loan_id")["paid_krw"].sum().reindex(open_loans["loan_id"].to_numpy(), fill_value=0)
        mine = judged & (window == k)
        out[mine] = paid.to_numpy()[mine] < minimum[mine]
    return out


def grades_at_booking(book: Book, model, loan_ids: pd.Series) -> np.ndarray:
    """The model's grade of each loan's merchant at its booking month, in ``loan_ids`` order."""
    from .scoring import scores_at_booking

    return scores_at_booking(book, model, loan_ids)["grade"].reindex(loan_ids.to_numpy()).to_numpy(dtype=float)


def watchlist(book: Book, model=None, *, as_of: str | None = None, products: pd.DataFrame | None = None,
              include_unflagged: bool = False, same_model_at_booking: bool = True) -> pd.DataFrame:
    """Flagged open loans as of a month, most severe and largest balance first.

    Parameters
    ----------
    book : Book
        With ``loans``, ``loan_months`` and the activity.
    model : CreditModel, optional
        Re-scores the merchants at ``as_of`` for ``grade_down`` (without one that trigger is off).
    as_of : str, optional
        Month ``YYYY-MM`` (default: the last month of ``loan_months``).
    products : DataFrame, optional
        The catalog with the advances' minimum-payment terms (default: the shipped catalog).
    include_unflagged : bool
        Keep open loans without a trigger (``severity`` "none"), e.g. to measure lift.
    same_model_at_booking : bool
        ``grade_down`` compares the model's grade now with the same model's grade on the snapshot
        of the booking month (default), so that a new model or scale is not read as a downgrade;
        False: with ``loans.grade_at_booking`` as recorded.

    Returns
    -------
    DataFrame
        :data:`WATCHLIST_COLUMNS`; ``triggers`` joined by ``;`` in :data:`TRIGGERS` order.
    """
    from .cohorts import _as_of_index, _loan_tables
    from .scoring import merchant_tables

    loans, lm = _loan_tables(book)
    t = _as_of_index(as_of, lm)
    at = lm[lm["month"].astype(str).eq(month_label(t))]
    at = at[~at["status"].isin(TERMINAL_STATUSES)].set_index("loan_id")
    open_loans = loans[loans["loan_id"].isin(at.index)].reset_index(drop=True)
    open_loans["months_since_booking"] = t - np.asarray(month_index(open_loans["booked_month"].astype(str)), dtype=int)
    merchants = pd.Index(open_loans["merchant_id"].unique())
    dpd = at["days_past_due"].reindex(open_loans["loan_id"]).to_numpy()
    hits = {"past_due": dpd > 0}
    per_merchant = _activity_triggers(book, merchants, t)
    where = merchants.get_indexer(open_loans["merchant_id"])
    hits.update({k: v[where] for k, v in per_merchant.items()})
    hits["grade_down"] = np.zeros(len(open_loans), dtype=bool)
    if model is not None and len(open_loans):
        sub_merchants, sub_activity, history = merchant_tables(book, merchants)
        snap = snapshot(sub_merchants, sub_activity, month_label(t), history).reindex(merchants).dropna(how="all")
        grades = model.score(snap)["grade"].reindex(open_loans["merchant_id"]).to_numpy(dtype=float)
        booked = grades_at_booking(book, model, open_loans["loan_id"]) if same_model_at_booking else \
            open_loans["grade_at_booking"].to_numpy(dtype=float)
        hits["grade_down"] = grades >= booked + 2
    hits["behind_minimum"] = _behind_minimum(book, open_loans, t, load_products() if products is None else products)
    flags = np.column_stack([np.asarray(hits[k], dtype=bool) for k in TRIGGERS]) if len(open_loans) else \
        np.zeros((0, len(TRIGGERS)), dtype=bool)
    points = flags.sum(axis=1) + ((dpd > 0) & (dpd < 30))
    severity = np.select([dpd >= 30, points >= 3, points == 2, points == 1], ["high", "high", "medium", "low"], "none")
    out = pd.DataFrame({
        "loan_id": open_loans["loan_id"], "merchant_id": open_loans["merchant_id"],
        "triggers": [";".join(k for k, f in zip(TRIGGERS, row) if f) for row in flags],
        "severity": severity, "months_since_booking": open_loans["months_since_booking"].astype("int64"),
        "balance_krw": at["balance_krw"].reindex(open_loans["loan_id"]).to_numpy().astype("int64"),
    })
    if not include_unflagged:
        out = out[out["severity"].ne("none")]
    order = out["severity"].map({s: i for i, s in enumerate((*SEVERITIES, "none"))})
    return out.assign(_o=order).sort_values(["_o", "balance_krw", "loan_id"], ascending=[True, False, True]) \
        .drop(columns="_o").reset_index(drop=True)
