"""Strategy figures aligned in time: expected figures of today's book, observed ones at decision.

Two frames serve every strategy view:

- **today** — the current book scored by the model today (:func:`strategy_frame` without outcomes):
  approval, expected bad rate (mean of today's PD), loss, revenue; what the policy will do now.
- **at decision** — :func:`decision_frame`: each known outcome row scored as of its own snapshot
  month. Observed bad rates (and the counts they rest on) come only from here: the question "of the
  merchants this policy would have approved, how many went bad?" is about the score they had when
  the decision would have been made, not the score they have after the outcome (a merchant that
  defaulted has collapsed since, and scores low today *because* of the default).

Each function here runs the same view on both frames and takes each figure from the frame that
can answer it: the result carries ``attrs["observed"] = "score at decision"``. Without a
score-at-decision frame (``None``: no outcome has matured) the view is today's alone, whose frame has
no outcome, so nothing observed is shown.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .bureau import SwapSets, rescue_view, swap_sets
from .curves import CutoffCurves
from .policy import Policy
from .results import PolicyResult
from .segments import segment_rates, segment_table

#: Columns of a strategy table that are observed outcomes (taken from the score-at-decision frame).
OBSERVED_COLUMNS_PREFIXES: tuple[str, ...] = ("observed_", "n_with_outcome", "n_approved_with_outcome")
OBSERVED_AT = "score at decision"


def _observed(column: str) -> bool:
    return column.startswith(OBSERVED_COLUMNS_PREFIXES)


def with_observed(today: pd.DataFrame, at_decision: pd.DataFrame, on: str | None = None) -> pd.DataFrame:
    """``today``'s table with its observed columns replaced by ``at_decision``'s.

    Rows are matched by index, or by column ``on`` (a segment table); a row of ``today`` that the
    score-at-decision table lacks (a segment with no known outcome) gets NaN: there is nothing
    observed to show, and the page says so in words.
    """
    out = today.copy()
    right = at_decision if on is None else at_decision.set_index(on)
    keys = out.index if on is None else pd.Index(out[on])
    for column in [c for c in out.columns if _observed(c)]:
        values = right[column].reindex(keys).to_numpy() if column in right else float("nan")
        out[column] = values
    out.attrs["observed"] = OBSERVED_AT
    return out


def aligned_result(today: CutoffCurves, at_decision: CutoffCurves | None, policy: Policy) -> PolicyResult:
    """:meth:`CutoffCurves.evaluate` of ``policy``: expected figures on today's book, the observed bad
    rate of the merchants it approves at decision (0 with outcome when there is no decision frame)."""
    result = today.evaluate(policy)
    if at_decision is None:
        return replace(result, n_approved_with_outcome=0, observed_bads=0, observed_bad_rate=float("nan"))
    seen = at_decision.evaluate(policy)
    return replace(result, n_approved_with_outcome=seen.n_approved_with_outcome, observed_bads=seen.observed_bads,
                   observed_bad_rate=seen.observed_bad_rate)


def aligned_swap_sets(today: pd.DataFrame, at_decision: pd.DataFrame | None, policy: Policy,
                      match: str = "approval") -> SwapSets:
    """:func:`swap_sets` on today's book (the bureau cutoff chosen there); each set's observed bad rate
    from the merchants the same two rules put in that set at decision."""
    swaps = swap_sets(today, policy, match=match)  # type: ignore[arg-type]
    if at_decision is None:
        return swaps
    seen = swap_sets(at_decision, policy, bureau_cutoff=swaps.bureau_cutoff)
    return replace(swaps, summary=with_observed(swaps.summary, seen.summary))


def aligned_rescue_summary(today: pd.DataFrame, at_decision: pd.DataFrame | None, policy: Policy, bureau_today,
                           bureau_at_decision, platform_today=None):
    """:func:`rescue_view` on today's book, observed rates from the same view at decision.

    The platform-only (stage 2) score exists for today's snapshot only, so the stage-2 rows have no
    observed rate (NaN)."""
    view = rescue_view(today, policy, bureau_today, platform_today)
    if at_decision is None:
        return view
    seen = rescue_view(at_decision, policy, bureau_at_decision)
    return replace(view, summary=with_observed(view.summary, seen.summary))


def aligned_segment_rates(today: pd.DataFrame, at_decision: pd.DataFrame | None, policy: Policy,
                          by: str = "thin_file") -> pd.DataFrame:
    """:func:`segment_rates` of today's book with each segment's observed rate at decision."""
    if at_decision is None:
        return segment_rates(today, policy, by=by)
    return with_observed(segment_rates(today, policy, by=by), segment_rates(at_decision, policy, by=by), on=by)


def aligned_segment_table(today: pd.DataFrame, at_decision: pd.DataFrame | None, policy: Policy,
                          by: str = "thin_file", n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """:func:`segment_table` (bootstrap intervals) with observed rates and their intervals at decision."""
    if at_decision is None:
        return segment_table(today, policy, by=by, n_boot=n_boot, seed=seed)
    return with_observed(segment_table(today, policy, by=by, n_boot=n_boot, seed=seed),
                         segment_table(at_decision, policy, by=by, n_boot=n_boot, seed=seed), on=by)


__all__ = ["OBSERVED_AT", "aligned_rescue_summary", "aligned_result", "aligned_segment_rates",
           "aligned_segment_table", "aligned_swap_sets", "with_observed"]
