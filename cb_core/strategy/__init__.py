"""Cutoff analytics: what a credit policy approves, at what risk, loss, revenue and profit.

The public face of the strategy modules; import from here. May import the base modules, ``data``,
``features`` and ``model`` (never ``explain``, ``offers`` or anything above).

- :mod:`cb_core.strategy._inputs` — the scored book frame (:func:`strategy_frame`) and the default
  limit rule (:func:`default_exposure`).
- :mod:`cb_core.strategy.policy` — :class:`Policy` (validated cutoffs, overrides, grades, economics).
- :mod:`cb_core.strategy.results` — :func:`decisions`, :func:`evaluate` ->
  :class:`PolicyResult`, :func:`compare_policies`.
- :mod:`cb_core.strategy.curves` — :class:`CutoffCurves`: every cutoff at once, O(log n) a slider move.
- :mod:`cb_core.strategy.bureau` — swap sets against the bureau score, thin-file uplift, the
  positive-only two-stage rescue.
- :mod:`cb_core.strategy.checks` — checkers of the positive-only promise and monotone constraints.
- :mod:`cb_core.strategy.segments` — inclusion metrics by segment with bootstrap intervals.
- :mod:`cb_core.strategy.in_force` — :func:`policy_in_force`: the published policy, else the settings'.

Typical use on a page::

    frame = strategy_frame(snapshot, model.score(snapshot), book.merchants, book.outcomes)
    curves = CutoffCurves.precompute(frame, policy)      # once per book and overrides
    result = curves.at(slider_value)                     # every slider move
"""
from __future__ import annotations

from .bureau import (
    RescueView, SwapSets, ThinFileUplift, bureau_only_scores, matched_bureau_cutoff, rescue_view, swap_sets,
    thin_file_uplift,
)
from .checks import check_monotone, check_positive_only
from .decision_note import check_decision_note
from .impact import IMPACT_METRICS, PublicationImpact, publication_impact
from .curves import CutoffCurves
from .in_force import DEFAULT_POLICY_NAME, PolicyInForce, policy_in_force
from ._inputs import default_exposure, frame_arrays, segment_values, strategy_frame
from .policy import DECISIONS, Policy, SegmentCutoff, with_cutoffs
from .results import PolicyComparison, PolicyResult, compare_policies, decisions, evaluate, policy_grades
from .segments import segment_rates, segment_table

__all__ = [
    "DECISIONS", "CutoffCurves", "check_decision_note", "IMPACT_METRICS", "PublicationImpact", "publication_impact", "Policy", "PolicyComparison", "PolicyResult", "RescueView", "SegmentCutoff",
    "SwapSets", "ThinFileUplift", "bureau_only_scores", "check_monotone", "check_positive_only", "compare_policies",
    "decisions", "default_exposure", "evaluate", "frame_arrays", "matched_bureau_cutoff", "policy_grades",
    "rescue_view", "segment_rates", "segment_table", "segment_values", "strategy_frame", "swap_sets", "thin_file_uplift",
    "with_cutoffs",
    "DEFAULT_POLICY_NAME", "PolicyInForce", "policy_in_force",
]
