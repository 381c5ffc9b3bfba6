"""How well the watch-list warns: lift of high-severity flags and the lead time before 90+.

For each as-of month ``T``, every open loan not yet 90 days past due is one observation: was it
flagged high at ``T``, and did it reach 90+ days past due (or charge-off) within the next
``horizon`` months? Pooled over the months: the share of high flags that reached 90+, the base
rate of all observations, their ratio (lift), and, for loans flagged high before they reached 90+
(at any later month), the median months from the first high flag to the 90+ month.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Book
from ..features import month_index, month_label
from .definitions import first_bad_mob

__all__ = ["watchlist_lift"]


def watchlist_lift(book: Book, model=None, *, months: list[str] | None = None, horizon: int = 6,
                   leading_only: bool = False, below_dpd: int = 90) -> dict[str, float]:
    """Lift and lead time of the watch-list's high severity (see the module docstring).

    Parameters
    ----------
    months : list of str, optional
        As-of months (default: every month with a booked loan that still has ``horizon`` months
        of book after it).
    leading_only : bool
        Judge a flag without the ``past_due`` trigger: high means three or more of the other
        triggers (what warns before a missed payment).
    below_dpd : int
        Observe only loans fewer than this many days past due at ``T`` (30: loans that have not
        yet missed a payment by a month, whose roll to 90+ is not yet under way).

    Returns
    -------
    dict
        ``observations``, ``flagged_high``, ``share_high_reaching_90``, ``base_rate``, ``lift``,
        ``median_lead_months`` and ``loans_warned`` (loans flagged high that later reached 90+).
    """
    from .cohorts import _loan_tables
    from .early_warning import watchlist

    loans, lm = _loan_tables(book)
    booked = np.asarray(month_index(loans["booked_month"].astype(str)))
    bad_at = pd.Series(booked + first_bad_mob(loans, lm, "dpd_90").to_numpy(), index=loans["loan_id"].to_numpy())
    last = int(month_index(lm["month"].astype(str)).max())
    if months is None:
        months = [month_label(t) for t in range(int(booked.min()), last - horizon + 1)]
    rows = []
    for month in months:
        t = int(month_index(month))
        w = watchlist(book, model, as_of=month, include_unflagged=True)
        due = bad_at.reindex(w["loan_id"].to_numpy()).to_numpy()
        at = lm[lm["month"].astype(str).eq(month)].set_index("loan_id")["days_past_due"]
        keep = ~(due <= t) & (at.reindex(w["loan_id"].to_numpy()).to_numpy() < below_dpd)
        if leading_only:
            leading = w["triggers"].fillna("").map(lambda s: len([x for x in s.split(";") if x and x != "past_due"]))
            high = leading.to_numpy() >= 3
        else:
            high = w["severity"].eq("high").to_numpy()
        rows.append(pd.DataFrame({"loan": w["loan_id"].to_numpy()[keep], "t": t, "high": high[keep],
                                  "bad": (due[keep] > t) & (due[keep] <= t + horizon), "due": due[keep]}))
    obs = pd.concat(rows, ignore_index=True)
    base = float(obs["bad"].mean()) if len(obs) else float("nan")
    share = float(obs.loc[obs["high"], "bad"].mean()) if obs["high"].any() else float("nan")
    # lead time: from a loan's first high flag (in any observed month) to its 90+ month
    warned = obs[obs["high"] & obs["due"].notna()].groupby("loan").agg(first=("t", "min"), due=("due", "first"))
    lead = (warned["due"] - warned["first"]).to_numpy()
    return {"observations": int(len(obs)), "flagged_high": int(obs["high"].sum()),
            "share_high_reaching_90": share, "base_rate": base, "lift": share / base if base else float("nan"),
            "median_lead_months": float(np.median(lead)) if len(lead) else float("nan"),
            "loans_warned": int(len(warned))}
