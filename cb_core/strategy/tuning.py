"""Cutoff tuning's figures of a draft, every one of them, within a slider move.

:meth:`TuningBook.precompute` prepares, once per book and model, today's book and the
score-at-decision frame (:class:`~cb_core.strategy.prepared.PreparedFrame`: validated arrays, the
bureau ladder, segment codes, the bureau-only and platform-only scores, the score order of the decision
changes) and their :class:`~cb_core.strategy.curves.CutoffCurves`. Each method then gives one figure
of a draft, aligned in time as :mod:`cb_core.strategy.aligned` does (expected figures of today's book,
observed rates of the merchants scored at decision), in a few vectorised passes:

=========================  ====================================================  =====================
method                     same figures as                                       cost per move
=========================  ====================================================  =====================
:meth:`result`             :func:`aligned_result`                                O(log n)
:meth:`table`              :meth:`CutoffCurves.table`                            O(cutoffs x log n)
:meth:`comparison`         :func:`compare_policies` (first ``limit`` changes)    O(n)
:meth:`swap_sets`          :func:`aligned_swap_sets` (summary, matrix, cutoff)   O(n)
:meth:`uplift`             :func:`thin_file_uplift`                              O(n)
:meth:`rescue`             :func:`aligned_rescue_summary` (summary)              O(n)
:meth:`segment_rates`      :func:`aligned_segment_rates`                         O(n)
=========================  ====================================================  =====================

(O(n) here is a handful of numpy passes: about a millisecond each at 100,000 merchants.) What does not
depend on the cutoffs at all — the positive-only promise check — is computed once
(:attr:`TuningBook.positive_only_violations`).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .aligned import with_observed
from .bureau import pick_bureau_cutoff
from .checks import check_positive_only
from .curves import CutoffCurves
from .policy import DECISIONS, Policy
from .prepared import PreparedFrame
from .results import PolicyResult, ratio


@dataclass(frozen=True)
class DraftSwaps:
    """Swap sets of a draft against the bureau (:class:`~cb_core.strategy.bureau.SwapSets` without
    the per-merchant membership): ``summary`` with observed rates at decision, today's 2x2 ``matrix``,
    the ``bureau_cutoff`` matched on today's book and how (``match``)."""

    summary: pd.DataFrame
    matrix: pd.DataFrame
    bureau_cutoff: float
    match: str


@dataclass(frozen=True)
class DraftComparison:
    """Who changes decision from the published policy to the draft: the 3x3 ``matrix`` (rows
    published, columns draft), ``n_changed`` merchants in all, and the first ``limit`` of them in
    ``changes`` (``merchant_id``, ``score``, ``old``, ``new``; best score first, then by id)."""

    matrix: pd.DataFrame
    changes: pd.DataFrame
    n_changed: int


@dataclass(frozen=True, eq=False)
class TuningBook:
    """Today's book and the score-at-decision frame, prepared for every draft. Build with :meth:`precompute`."""

    today: PreparedFrame
    seen: PreparedFrame | None
    positive_only_violations: pd.DataFrame | None
    _order: np.ndarray = field(repr=False)
    _ids: np.ndarray = field(repr=False)
    _raw_score: np.ndarray = field(repr=False)
    _curves: dict = field(repr=False, default_factory=dict)
    _lock: Any = field(repr=False, default_factory=threading.Lock)

    @classmethod
    def precompute(cls, today: pd.DataFrame, at_decision: pd.DataFrame | None = None, *, bureau_today: Any = None,
                   bureau_at_decision: Any = None, platform_today: Any = None,
                   curves: CutoffCurves | None = None, seen_curves: CutoffCurves | None = None) -> TuningBook:
        """Prepare ``today`` (a strategy frame of the current book) and ``at_decision`` (its
        score-at-decision frame, None without outcomes).

        ``bureau_today`` / ``bureau_at_decision``: the bureau-only score of each frame on our points
        scale (the uplift and rescue views need them); ``platform_today``: the platform-only score
        (stage 2 rows of the rescue view). ``curves`` / ``seen_curves``: already precomputed
        :class:`CutoffCurves` of the two frames for the default policy's overrides, reused.
        """
        if at_decision is not None and len(at_decision) == 0:
            at_decision = None
        t = PreparedFrame(today, bureau_today, platform_today)
        s = None if at_decision is None else PreparedFrame(at_decision, bureau_at_decision)
        violations = None
        if t.points is not None:
            violations = check_positive_only(pd.Series(t.final, index=today.index),
                                             pd.Series(t.points, index=today.index))
        raw = pd.to_numeric(today["score"]).to_numpy(dtype=float)
        keys = pd.DataFrame({"score": raw, "merchant_id": today.index.to_numpy()})
        order = keys.sort_values(["score", "merchant_id"], ascending=[False, True], kind="stable").index.to_numpy()
        book = cls(t, s, violations, order, today.index.to_numpy(dtype=object), raw)
        if curves is not None:
            book._curves[cls._shape(curves.policy)] = (curves, seen_curves)
        return book

    # -------------------------------------------------------------- curves (O(log n) a move)
    @staticmethod
    def _shape(policy: Policy) -> tuple:
        return policy.segment_key(), policy.positive_only

    def curves(self, policy: Policy) -> tuple[CutoffCurves, CutoffCurves | None]:
        """Today's and the score-at-decision curves for ``policy``'s segment overrides and
        positive-only option (precomputed on first use for each)."""
        key = self._shape(policy)
        with self._lock:
            if key not in self._curves:
                shape = Policy(segment_cutoffs=policy.segment_cutoffs, positive_only=policy.positive_only)
                self._curves[key] = (CutoffCurves.precompute(self.today.frame, shape),
                                     None if self.seen is None else CutoffCurves.precompute(self.seen.frame, shape))
            return self._curves[key]

    def result(self, policy: Policy) -> PolicyResult:
        """:func:`~cb_core.strategy.aligned.aligned_result` of ``policy``."""
        today, seen = self.curves(policy)
        result = today.evaluate(policy)
        if seen is None:
            return replace(result, n_approved_with_outcome=0, observed_bads=0, observed_bad_rate=float("nan"))
        observed = seen.evaluate(policy)
        return replace(result, n_approved_with_outcome=observed.n_approved_with_outcome,
                       observed_bads=observed.observed_bads, observed_bad_rate=observed.observed_bad_rate)

    def table(self, policy: Policy, step: float = 5) -> pd.DataFrame:
        """Today's figures at every approve cutoff ``1, 1 + step, ...`` with ``policy``'s economics."""
        return self.curves(policy)[0].table(step=step, policy=policy)

    # -------------------------------------------------------------- O(n) views
    def comparison(self, draft: Policy, published: Policy, limit: int = 500) -> DraftComparison:
        """The published x draft decision matrix and the first ``limit`` merchants who change."""
        old, new = self.today.codes(published), self.today.codes(draft)
        counts = np.bincount(old.astype(np.int64) * 3 + new, minlength=9).reshape(3, 3)
        matrix = pd.DataFrame(counts, index=pd.Index(DECISIONS, name="published"),
                              columns=pd.Index(DECISIONS, name="draft"))
        moved = old != new
        rows = self._order[moved[self._order]][:max(int(limit), 0)]
        words = np.asarray(DECISIONS, dtype=object)
        changes = pd.DataFrame({"merchant_id": self._ids[rows], "score": self._raw_score[rows],
                                "old": words[old[rows]], "new": words[new[rows]]})
        return DraftComparison(matrix, changes, int(moved.sum()))

    def swap_sets(self, policy: Policy, match: str = "approval") -> DraftSwaps:
        """:func:`~cb_core.strategy.aligned.aligned_swap_sets` of ``policy``."""
        if match not in ("approval", "bad_rate"):
            raise ConfigError(f"match must be 'approval' or 'bad_rate'; got {match!r}",
                              key="err_bureau_match_approval_bad_rate", match=match)
        t = self.today
        if t.ladder is None:
            raise ConfigError("a bureau comparison needs a bureau_score column (missing = thin file)",
                              key="err_bureau_bureau_comparison_needs_bureau")
        ours = t.codes(policy) == 0
        if match == "approval":
            cutoff = pick_bureau_cutoff(t.ladder, n_approved=int(ours.sum()))
        else:
            cutoff = pick_bureau_cutoff(t.ladder, bad_rate=ratio(t.pd[ours].sum(), ours.sum()))
        summary, matrix = t.swap_summary(ours, cutoff)
        if self.seen is not None:
            if self.seen.bureau is None:
                raise ConfigError("a bureau comparison needs a bureau_score column (missing = thin file)",
                              key="err_bureau_bureau_comparison_needs_bureau")
            seen, _ = self.seen.swap_summary(self.seen.codes(policy) == 0, cutoff)
            summary = with_observed(summary, seen)
        return DraftSwaps(summary, matrix, cutoff, match)

    def uplift(self, policy: Policy):
        """:func:`~cb_core.strategy.bureau.thin_file_uplift` of ``policy`` on today's book."""
        self._need_points(self.today, "bureau_today")
        return self.today.uplift(policy)

    def rescue(self, policy: Policy) -> pd.DataFrame:
        """The summary of :func:`~cb_core.strategy.aligned.aligned_rescue_summary` of ``policy``."""
        self._need_points(self.today, "bureau_today")
        summary = self.today.rescue_summary(policy)
        if self.seen is None:
            return summary
        self._need_points(self.seen, "bureau_at_decision")
        return with_observed(summary, self.seen.rescue_summary(policy))

    def segment_rates(self, policy: Policy, by: str = "thin_file") -> pd.DataFrame:
        """:func:`~cb_core.strategy.aligned.aligned_segment_rates` of ``policy`` by ``by``."""
        rates = self.today.segment_rates(policy, by)
        return rates if self.seen is None else with_observed(rates, self.seen.segment_rates(policy, by), on=by)

    @staticmethod
    def _need_points(side: PreparedFrame, name: str) -> None:
        if side.points is None:
            raise ConfigError(f"this view needs the bureau-only score ({name}) given to TuningBook.precompute",
                              key="err_tuning_needs_bureau_only_score", name=name)


__all__ = ["DraftComparison", "DraftSwaps", "TuningBook"]
