"""Demo loans for a book: who took up an offer, and how each loan repaid.

Why here and not in ``synth``: a loan is booked only where the product itself would book it, under
the shipped partner catalog (:func:`cb_core.offers.match_book`) and the policy in force
(:class:`cb_core.strategy.Policy`). Those live above ``synth``; generating loans there would mean
a second copy of the catalog's rules. So ``synth`` makes the merchants and their activity, and this
module (a layer that may import ``offers``) books loans on that book; ``python -m cb_core demo-data``
calls both.

How loans are booked (:func:`demo_loans`), month by month from the seventh month of the book (six
months of history first):

1. Score at booking: the generator's true PD of each merchant with a row that month
   (:func:`cb_core.synth.true_pd_at`; all months at once with ``true_pd_path``), blurred by a model error of N(0, 0.35) in log-odds (a real
   model is not the truth; the backtest should see that), on the settings' score scale and the
   policy's grade bands.
2. Approved: score at or above the policy's ``approve_cutoff``; offered: the best-ranked eligible
   product of ``match_book`` on the as-of snapshot (score, grade, months active, 3-month average
   sales, category).
3. Take-up: 4% a month of approved merchants with an offer, no open loan and no earlier
   charge-off (one loan at a time, at most one default per merchant). The amount is 50–100% of the
   offered limit, rounded down to 100,000 KRW; APR, term and repayment are the offer's.
4. Repayment month by month: :mod:`cb_core.loans._paths`.

Default events: when the book has a ``default_events`` table (the demo book from
:func:`cb_core.synth.generate_book` does), the merchant's own persistent default decides its loan.
A merchant is not booked from its default month on (a bureau would show the default). A loan open
three months before the default month misses its payment then and rolls 30 days a month, so it is
90+ days past due exactly in the default month, then charged off three months later; a loan booked
within three months before the default misses its first instalment (the month after booking) and
reaches 90+ three months after that. A merchant without a default event never misses for good
(transient misses still happen). Without the table, default events are drawn from the true PD path
(:mod:`cb_core.loans._paths`).

Same book and seed, same tables (a test writes them twice and compares the bytes).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..data import Book
from ..features import month_index
from ..model import ScoreScale, grade_of, score_from_pd
from ..offers import load_products, match_book, round_down_limit
from ..strategy import Policy
from ..synth import true_pd_path
from ._paths import loan_path

__all__ = ["DEMO_TAKE_UP", "MODEL_ERROR_SD", "demo_loans", "with_demo_loans"]

DEMO_TAKE_UP = 0.04
MODEL_ERROR_SD = 0.35
FIRST_BOOKING_MONTH = 6  # months of book before the first booking (features need history)
POLICY_VERSION = "settings"  # the policy the settings describe: nothing is published in a demo book
_STR = pd.StringDtype(na_value=np.nan)


def _by_month(book: Book, months: list[str], column: str) -> np.ndarray:
    ids = pd.Index(book.merchants["merchant_id"])
    out = np.full((len(ids), len(months)), np.nan)
    rows = ids.get_indexer(book.activity["merchant_id"])
    cols = pd.Index(months).get_indexer(book.activity["month"])
    out[rows, cols] = book.activity[column].to_numpy(dtype=float, na_value=np.nan)
    return out


def _offer_inputs(gmv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``months_active`` and ``gmv_3m_avg_krw`` of every merchant at every month index, as the as-of
    snapshot (:func:`cb_core.features.snapshot`) computes them, from the (merchant x month) sales
    matrix (NaN without a row): months with sales so far; sales of the last three months over the
    months among them on or after the merchant's first row."""
    months_active = np.cumsum(gmv > 0, axis=1).astype(float)
    seen = np.isfinite(gmv)
    first = np.where(seen.any(axis=1), seen.argmax(axis=1), gmv.shape[1])
    avg = np.full(gmv.shape, np.nan)
    col = np.arange(gmv.shape[1])
    for j in range(gmv.shape[1]):
        lo = max(j - 2, 0)
        n_seen = (col[None, lo:j + 1] >= first[:, None]).sum(axis=1).astype(float)
        total = np.nansum(gmv[:, lo:j + 1], axis=1)
        np.divide(total, n_seen, out=avg[:, j], where=n_seen > 0)
    return months_active, avg


def _default_months(book: Book, ids: pd.Index, first_abs: int) -> np.ndarray | None:
    """Each merchant's default month as a month index of the book (``default_events``; a large
    number for a merchant without one), or None when the book has no ``default_events`` table."""
    events = book.default_events
    if events is None:
        return None
    out = np.full(len(ids), np.iinfo(np.int32).max, dtype=np.int64)
    where = ids.get_indexer(events["merchant_id"].astype(str))
    known = where >= 0
    out[where[known]] = month_index(events["default_month"].astype(str))[known] - first_abs
    return out


def demo_loans(book: Book, seed: int = 7, *, products: pd.DataFrame | None = None, policy: Policy | None = None,
               take_up: float = DEMO_TAKE_UP) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``loans`` and ``loan_months`` tables of a demo book (see the module docstring).

    Parameters
    ----------
    book : Book
        A book with ``merchants`` and ``monthly_activity`` (from :func:`cb_core.synth.generate_book`).
    seed : int
        Seed of the loans' own random stream.
    products, policy
        Catalog and policy; default the shipped catalog and ``Policy.from_settings()``.
    take_up : float
        Monthly share of approved merchants with an offer that take a loan.

    Returns
    -------
    (DataFrame, DataFrame)
        ``loans`` and ``loan_months`` in the contract's columns and canonical dtypes.
    """
    products = load_products() if products is None else products
    policy = policy or Policy.from_settings()
    scale = ScoreScale.from_settings()
    catalog = {row["product_id"]: row for row in products.to_dict("records")}
    months = sorted(book.activity["month"].astype(str).unique())
    n_months, first_abs = len(months), int(month_index(months[0]))
    ids = pd.Index(book.merchants["merchant_id"].astype(str))
    gmv = _by_month(book, months, "gmv_krw")
    pd_true = true_pd_path(book, months).to_numpy()
    months_active, gmv_3m_avg = _offer_inputs(gmv)
    category = book.merchants["category"].astype(str).to_numpy()
    id_text = ids.to_numpy(dtype=object)
    default_at = _default_months(book, ids, first_abs)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 16]))
    free_from = np.zeros(len(ids), dtype=np.int64)
    loans: list[tuple] = []
    rows: list[tuple] = []
    for j in range(min(FIRST_BOOKING_MONTH, n_months - 1), n_months):
        active = np.flatnonzero(~np.isnan(pd_true[:, j]))
        noise = rng.normal(0.0, MODEL_ERROR_SD, len(active))
        draw = rng.random(len(active))
        logit = np.log(pd_true[active, j] / (1 - pd_true[active, j])) + noise
        pd_b = 1.0 / (1.0 + np.exp(-logit))
        score = np.asarray(score_from_pd(pd_b, scale, rounded=True), dtype=np.int64)
        # only the merchants that would take an offer are matched (the others' offers change nothing)
        cand = np.flatnonzero((score >= policy.approve_cutoff) & (free_from[active] <= j) & (draw < take_up)
                              & (True if default_at is None else default_at[active] > j))  # not yet in default
        who = active[cand]
        frame = pd.DataFrame({"score": score[cand], "grade": grade_of(score[cand], policy.bands),
                              "months_active": months_active[who, j], "gmv_3m_avg_krw": gmv_3m_avg[who, j],
                              "category": category[who]}, index=ids[who])
        offers = match_book(frame, products)
        best = offers[("best", "product_id")].to_numpy(dtype=object)
        grades = frame["grade"].to_numpy()
        limits, aprs = offers["limit_krw"], offers["apr_pct"]
        column = {pid: (limits.columns.get_loc(pid), aprs.columns.get_loc(pid)) for pid in set(best[pd.notna(best)])}
        limits, aprs = limits.to_numpy(dtype=float), aprs.to_numpy(dtype=float)
        for c in np.flatnonzero(pd.notna(best)):
            i = cand[c]
            m, pid = active[i], best[c]
            p = catalog[pid]
            limit = float(limits[c, column[pid][0]])
            amount = max(float(round_down_limit(limit * rng.uniform(0.5, 1.0))), 100_000.0)
            apr = round(float(aprs[c, column[pid][1]]), 2)
            term = int(p["max_term_months"] if p["repayment"] != "amortizing" else p["term_months"])
            loan_id = f"L{len(loans) + 1:07d}"
            path = loan_path(rng, start=j, n_months=n_months, amount=amount, apr_pct=apr, term=term, product=p,
                             gmv=gmv[m], pd_by_month=pd_true[m],
                             miss_month=None if default_at is None else _miss_month(int(default_at[m]), j, n_months))
            loans.append((loan_id, id_text[m], p["partner"], pid, months[j], int(amount), apr, term, p["repayment"],
                          int(score[i]), int(grades[c]), float(pd_b[i]), POLICY_VERSION))
            rows += [(loan_id, months[k], bal, paid, dpd, status) for k, bal, paid, dpd, status in path]
            end_status, end = path[-1][4], path[-1][0]
            free_from[m] = n_months if end_status == "charged_off" else (end + 1 if end_status == "repaid" else n_months)
    return _frames(loans, rows)


def _miss_month(default_at: int, booked: int, n_months: int) -> int:
    """First missed payment of a loan booked at ``booked`` of a merchant defaulting at ``default_at``:
    three months before the default (so 90+ days past due in the default month), but never before
    the loan's first instalment (the month after booking); ``n_months`` (never) without a default
    in the book."""
    return max(default_at - 3, booked + 1) if default_at < n_months else n_months


def _frames(loans: list[tuple], rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    from ..data import LOAN_COLUMNS, LOAN_MONTH_COLUMNS

    lf = pd.DataFrame(loans, columns=list(LOAN_COLUMNS))
    mf = pd.DataFrame(rows, columns=list(LOAN_MONTH_COLUMNS))
    for frame, text, whole in ((lf, ("loan_id", "merchant_id", "partner", "product_id", "booked_month", "repayment",
                                     "policy_version"),
                                ("amount_krw", "term_months", "score_at_booking", "grade_at_booking")),
                               (mf, ("loan_id", "month", "status"), ("balance_krw", "paid_krw", "days_past_due"))):
        for c in text:
            frame[c] = frame[c].astype(_STR)
        for c in whole:
            frame[c] = frame[c].astype("int64")
    for c in ("apr_pct", "pd_at_booking"):
        lf[c] = lf[c].astype("float64")
    return lf, mf


def with_demo_loans(book: Book, seed: int = 7, **options) -> Book:
    """``book`` with demo ``loans`` and ``loan_months`` (:func:`demo_loans`) attached; none when no loan
    was booked (a short book: bookings start in its seventh month), since a written empty table is
    refused when the book is read back."""
    loans, loan_months = demo_loans(book, seed, **options)
    if loans.empty:
        loans = loan_months = None
    return replace(book, loans=loans, loan_months=loan_months, _fingerprint=None)
