"""Cutoff analytics: what a credit policy approves, at what risk, loss, revenue and profit.

The public face of the strategy modules (loaded lazily); import from here. May import the base modules, ``data``,
``features`` and ``model`` (never ``explain``, ``offers`` or anything above).

- :mod:`cb_core.strategy._inputs` — the scored book frame (:func:`strategy_frame`), the
  score-at-decision frame observed rates come from (:func:`decision_frame`) and the default limit
  rule (:func:`default_exposure`).
- :mod:`cb_core.strategy.policy` — :class:`Policy` (validated cutoffs, overrides, grades, economics).
- :mod:`cb_core.strategy.results` — :func:`decisions`, :func:`evaluate` ->
  :class:`PolicyResult`, :func:`compare_policies`.
- :mod:`cb_core.strategy.curves` — :class:`CutoffCurves`: every cutoff at once, O(log n) a slider move.
- :mod:`cb_core.strategy.bureau` — swap sets against the bureau score, thin-file uplift, the
  positive-only two-stage rescue.
- :mod:`cb_core.strategy.checks` — checkers of the positive-only promise and monotone constraints.
- :mod:`cb_core.strategy.segments` — inclusion metrics by segment with bootstrap intervals.
- :mod:`cb_core.strategy.aligned` — every view on two frames: expected figures of today's book,
  observed bad rates of the merchants scored at decision (:func:`aligned_result`, swap sets, rescue,
  segments).
- :mod:`cb_core.strategy.prepared` / :mod:`cb_core.strategy.tuning` — :class:`TuningBook`: both frames
  prepared once per book and model, every figure of a draft in a few vectorised passes (a slider move).
- :mod:`cb_core.strategy.in_force` — :func:`policy_in_force`: the published policy, else the settings'.

Typical use on a page::

    today = strategy_frame(snapshot, model.score(snapshot), book.merchants)  # today's PD, no outcomes
    seen = decision_frame(book, model)                  # each outcome row scored as of its month
    curves, seen_curves = CutoffCurves.precompute(today), CutoffCurves.precompute(seen)  # once
    result = aligned_result(curves, seen_curves, policy)  # every slider move
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "aligned": ("OBSERVED_AT", "aligned_rescue_summary", "aligned_result", "aligned_segment_rates",
                "aligned_segment_table", "aligned_swap_sets", "with_observed"),
    "bureau": ("RescueView", "SwapSets", "ThinFileUplift", "bureau_ladder", "bureau_only_scores",
               "matched_bureau_cutoff", "pick_bureau_cutoff", "rescue_view", "swap_sets", "thin_file_uplift"),
    "checks": ("check_monotone", "check_positive_only"),
    "curves": ("CutoffCurves",),
    "decision_note": ("check_decision_note",),
    "impact": ("IMPACT_METRICS", "PublicationImpact", "publication_impact"),
    "in_force": ("DEFAULT_POLICY_NAME", "PolicyInForce", "policy_in_force"),
    "_inputs": ("SCORED_AT_DECISION", "decision_frame", "default_exposure", "frame_arrays", "segment_values",
                "strategy_frame"),
    "prepared": ("PreparedFrame",),
    "tuning": ("DraftComparison", "DraftSwaps", "TuningBook"),
    "policy": ("DECISIONS", "Policy", "SegmentCutoff", "with_cutoffs"),
    "results": ("PolicyComparison", "PolicyResult", "compare_policies", "decisions", "evaluate", "policy_grades"),
    "segments": ("segment_rates", "segment_table"),
})
