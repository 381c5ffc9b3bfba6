"""Per booking cohort: early reads for cohorts too young to judge, and discrimination for those that are.

- ``first_payment_default``: share of the cohort's loans past due at month on book 1 (the first
  payment missed), among loans observed that long.
- ``dpd30_by_mob3``: share that were 30+ days past due (or charged off) by month on book 3, among
  loans observed that long.
- ``judged_12m``, ``bad_rate_12m``: loans with 12 months of history and their rate of the
  registry's ``bad`` (90+ within 12 months).
- ``auc``, ``ks``: how well the PD at booking (or ``predicted``) ranked those judged loans; NaN
  when the judged loans are not both good and bad.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Book
from ..features import month_index
from ..model import metrics
from .definitions import BAD_FOR_SCORE, first_bad_mob, months_on_book

__all__ = ["COHORT_METRIC_COLUMNS", "cohort_metrics"]

COHORT_METRIC_COLUMNS: tuple[str, ...] = ("cohort", "loans", "first_payment_default", "dpd30_by_mob3", "judged_12m",
                                          "bad_rate_12m", "auc", "ks")


def cohort_metrics(book: Book, *, predicted: pd.Series | None = None, as_of: str | None = None) -> pd.DataFrame:
    """Early reads and discrimination by booking cohort (see the module docstring).

    Returns
    -------
    DataFrame
        :data:`COHORT_METRIC_COLUMNS`, one row per cohort, oldest first.
    """
    from .cohorts import _as_of_index, _loan_tables

    loans, lm = _loan_tables(book)
    last = _as_of_index(as_of, lm)
    ids = loans["loan_id"].to_numpy()
    age = last - np.asarray(month_index(loans["booked_month"].astype(str)))
    mob = months_on_book(loans, lm)
    late_at_1 = lm.loc[mob.eq(1) & lm["days_past_due"].gt(0), "loan_id"]
    dpd30 = first_bad_mob(loans, lm, "dpd_30").to_numpy()
    bad = ~np.isnan(first_bad_mob(loans, lm, BAD_FOR_SCORE).to_numpy())
    pd_ = loans["pd_at_booking"].to_numpy(dtype=float) if predicted is None else \
        pd.Series(predicted).reindex(ids).to_numpy(dtype=float)
    frame = pd.DataFrame({"cohort": loans["booked_month"].astype(str).to_numpy(), "age": age,
                          "fpd": pd.Index(ids).isin(late_at_1), "dpd30": dpd30 <= 3, "bad": bad, "pd": pd_})
    frame = frame[frame["age"] >= 0]
    rows = []
    for cohort, g in frame.groupby("cohort", sort=True):
        seen1, seen3, judged = g[g["age"] >= 1], g[g["age"] >= 3], g[g["age"] >= 12]
        y = judged["bad"].to_numpy()
        both = len(judged) > 0 and 0 < y.sum() < len(y) and not np.isnan(judged["pd"]).any()
        rows.append({"cohort": cohort, "loans": len(g),
                     "first_payment_default": seen1["fpd"].mean() if len(seen1) else np.nan,
                     "dpd30_by_mob3": seen3["dpd30"].mean() if len(seen3) else np.nan,
                     "judged_12m": len(judged), "bad_rate_12m": y.mean() if len(y) else np.nan,
                     "auc": metrics.auc(judged["pd"], y) if both else np.nan,
                     "ks": metrics.ks(judged["pd"], y) if both else np.nan})
    return pd.DataFrame(rows, columns=list(COHORT_METRIC_COLUMNS)).astype({"loans": "int64", "judged_12m": "int64"})
