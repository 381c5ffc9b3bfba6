"""Backtest: the PD predicted at booking against the observed 12-month bad rate, grade by grade.

Loans with 12 months of history (``booked_month`` at least 12 months before the last month of
``loan_months``) are judged; a loan is bad when it met the registry's ``bad`` definition (90+ days
past due or charged off by month on book 12). Per grade at booking: the loans, the mean predicted
PD, the observed bad rate and its Jeffreys interval (the Beta(bads + 1/2, good + 1/2) quantiles;
0 below when no loan was bad, 1 above when all were), two-sided.

The light of a grade (the traffic-light test of rating-system validation):

- **green**: the predicted PD lies within the 95% Jeffreys interval of the observed rate;
- **amber**: outside the 95% interval, within the 99.9% interval;
- **red**: outside the 99.9% interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Book
from ..features import month_index
from .definitions import BAD_FOR_SCORE, first_bad_mob

__all__ = ["BACKTEST_COLUMNS", "HORIZON_MONTHS", "backtest", "jeffreys_interval", "traffic_light"]

BACKTEST_COLUMNS: tuple[str, ...] = ("grade", "loans", "predicted_pd", "observed_bad_rate", "ci_low", "ci_high",
                                     "light")
HORIZON_MONTHS = 12
GREEN_LEVEL, AMBER_LEVEL = 0.95, 0.999


def jeffreys_interval(bads: np.ndarray | int, n: np.ndarray | int, level: float = GREEN_LEVEL
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Jeffreys interval of a binomial rate (``bads`` of ``n``), as arrays."""
    from scipy.stats import beta  # here: scipy.stats is 0.7 s of import that the app's landing page does not need

    k, n = np.asarray(bads, dtype=float), np.asarray(n, dtype=float)
    tail = (1 - level) / 2
    low = np.where(k > 0, beta.ppf(tail, k + 0.5, n - k + 0.5), 0.0)
    high = np.where(k < n, beta.ppf(1 - tail, k + 0.5, n - k + 0.5), 1.0)
    return low, high


def traffic_light(predicted: np.ndarray, bads: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``green``/``amber``/``red`` per row (see the module docstring)."""
    lo95, hi95 = jeffreys_interval(bads, n, GREEN_LEVEL)
    lo999, hi999 = jeffreys_interval(bads, n, AMBER_LEVEL)
    p = np.asarray(predicted, dtype=float)
    return np.where((p >= lo95) & (p <= hi95), "green", np.where((p >= lo999) & (p <= hi999), "amber", "red"))


def backtest(book: Book, *, predicted: pd.Series | None = None, as_of: str | None = None) -> pd.DataFrame:
    """Predicted PD against the observed 12-month bad rate by grade at booking.

    Parameters
    ----------
    book : Book
        With ``loans`` and ``loan_months``.
    predicted : Series, optional
        PD per ``loan_id`` to test instead of ``loans.pd_at_booking`` (e.g. another model's PD at
        the booking month).
    as_of : str, optional
        Last month observed (default: the last month of ``loan_months``).

    Returns
    -------
    DataFrame
        :data:`BACKTEST_COLUMNS`, one row per grade with judged loans, best grade first.
    """
    from .cohorts import _as_of_index, _loan_tables

    loans, months = _loan_tables(book)
    last = _as_of_index(as_of, months)
    judged = np.asarray(month_index(loans["booked_month"].astype(str))) + HORIZON_MONTHS <= last
    first = first_bad_mob(loans, months, BAD_FOR_SCORE).to_numpy()
    pd_ = loans["pd_at_booking"].to_numpy(dtype=float) if predicted is None else \
        pd.Series(predicted).reindex(loans["loan_id"].to_numpy()).to_numpy(dtype=float)
    frame = pd.DataFrame({"grade": loans["grade_at_booking"].to_numpy(), "pd": pd_, "bad": ~np.isnan(first)})[judged]
    out = frame.groupby("grade").agg(loans=("bad", "size"), predicted_pd=("pd", "mean"), bads=("bad", "sum"))
    out = out.reset_index()
    out["observed_bad_rate"] = out["bads"] / out["loans"]
    out["ci_low"], out["ci_high"] = jeffreys_interval(out["bads"].to_numpy(), out["loans"].to_numpy())
    out["light"] = traffic_light(out["predicted_pd"].to_numpy(), out["bads"].to_numpy(), out["loans"].to_numpy())
    return out[list(BACKTEST_COLUMNS)].astype({"grade": "int64", "loans": "int64"})
