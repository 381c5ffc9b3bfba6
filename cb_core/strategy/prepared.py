"""One strategy frame made ready for many policies: validated arrays, the bureau ladder, segment codes,
the bureau-only and platform-only scores, prepared once; then every per-policy figure (decisions, swap
sets, thin-file uplift, rescue groups, segment rates) is a few vectorised passes over numpy arrays.

:class:`PreparedFrame` gives the same figures as :func:`~cb_core.strategy.bureau.swap_sets`,
:func:`~cb_core.strategy.bureau.thin_file_uplift`, :func:`~cb_core.strategy.bureau.rescue_view` and
:func:`~cb_core.strategy.segments.segment_rates` (those stay the reference; sums may differ in the
last bits from their order of addition) without validating the frame, converting pandas columns or
factorising segments again on every slider move. :class:`~cb_core.strategy.tuning.TuningBook` pairs
two of them (today's book and the score-at-decision frame).

What depends only on a policy's segment overrides, its positive-only flag or its grade boundaries
(not on the cutoffs the sliders move) is computed on first use and kept, under a lock: one prepared
frame serves every session of a server.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..model import grade_of
from ._inputs import frame_arrays, segment_values
from .bureau import ThinFileUplift, _as_score, _bureau, bureau_ladder
from .policy import Policy
from .results import decision_codes, effective_score, ratio, segment_overrides

#: Columns of the per-merchant weights summed by group: count, PD, with outcome, bad, thin file.
_WEIGHTS = ("n", "pd", "with_outcome", "bad", "thin")


class PreparedFrame:
    """A strategy frame's arrays, ready for any number of policies.

    Parameters
    ----------
    frame : DataFrame
        A strategy frame (validated here, once).
    bureau_points : Series or array, optional
        The bureau-only score on our points scale (one per row, NaN = thin file): the uplift and the
        rescue view need it.
    platform_points : Series or array, optional
        The platform-only (stage 2) score: the rescue view's two-stage rows.
    """

    def __init__(self, frame: pd.DataFrame, bureau_points: Any = None, platform_points: Any = None) -> None:
        arrays = frame_arrays(frame)
        self.frame, self.n = frame, arrays.n
        self.score, self.pd, self.has_outcome, self.bad = arrays.score, arrays.pd, arrays.has_outcome, arrays.bad
        self.bureau = _bureau(frame) if "bureau_score" in frame else None
        self.ladder = None if self.bureau is None else bureau_ladder(self.bureau, self.pd)
        self.points = None if bureau_points is None else _as_score(bureau_points, frame, "bureau_points")
        self.platform = None if platform_points is None else _as_score(platform_points, frame, "platform_only_score")
        if self.points is not None:  # the positive-only final score: max(ours, bureau-only), ours for a thin file
            self.final = np.where(np.isnan(self.points), self.score, np.fmax(self.score, self.points))
        no_bureau = np.isnan(self.bureau) if self.bureau is not None else (
            np.isnan(self.points) if self.points is not None else np.zeros(self.n, dtype=bool))
        self.thin_bureau = no_bureau  # swap and rescue tables: no bureau score
        self.thin_flag = (frame["thin_file"].to_numpy(dtype=float) == 1) if "thin_file" in frame else no_bureau
        self.weights = np.vstack([np.ones(self.n), self.pd, self.has_outcome, self.bad, no_bureau]).astype(float)
        self._memo: dict[tuple, Any] = {}
        self._lock = threading.RLock()  # a kept value may be made of another

    # -------------------------------------------------------------- kept per policy shape
    def _kept(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]

    def cutoffs(self, policy: Policy) -> np.ndarray | float:
        """Each row's approve cutoff (a scalar when the policy has no segment override)."""
        if not policy.segment_cutoffs:
            return policy.approve_cutoff
        override = self._kept(("override", policy.segment_key()), lambda: segment_overrides(self.frame, policy))
        return np.where(np.isnan(override), policy.approve_cutoff, override)

    def effective(self, policy: Policy) -> np.ndarray:
        """The score the policy decides on (floored at the bureau-only score when positive-only)."""
        if not policy.positive_only:
            return self.score
        return self._kept(("effective",), lambda: effective_score(self.frame, policy, self.score))

    def codes(self, policy: Policy) -> np.ndarray:
        """0 approve, 1 refer, 2 decline per row (:func:`~cb_core.strategy.results.decisions`' codes)."""
        return decision_codes(self.effective(policy), self.cutoffs(policy), policy.refer_cutoff)

    def segment_codes(self, by: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Codes, sorted labels and sizes of segment ``by`` (factorised once)."""
        def make():
            codes, labels = pd.factorize(segment_values(self.frame, by), sort=True, use_na_sentinel=False)
            return codes, labels, np.bincount(codes, minlength=len(labels))
        return self._kept(("segment", by), make)

    def _grades(self, policy: Policy, which: str) -> np.ndarray:
        def make():
            if which == "ours":
                return grade_of(self.effective(policy), policy.bands)
            out = np.full(self.n, 99)
            graded = ~np.isnan(self.points)
            out[graded] = grade_of(self.points[graded], policy.bands)
            return out
        return self._kept(("grade", which, policy.positive_only, policy.grade_boundaries), make)

    # -------------------------------------------------------------- group sums
    def groups(self, cells: np.ndarray, n_cells: int, groups: dict[str, Callable[[np.ndarray], np.ndarray]]
               ) -> pd.DataFrame:
        """The swap/rescue group table of cells: each row belongs to one cell (an integer of
        decision bits); each group is the cells its predicate (of the cell numbers) keeps."""
        sums = np.vstack([np.bincount(cells, weights=w, minlength=n_cells) for w in self.weights])
        ids = np.arange(n_cells)
        member = np.vstack([keep(ids) for keep in groups.values()]).astype(float)  # groups x cells
        n, pd_sum, with_outcome, bads, thin = sums @ member.T                       # 5 x groups
        counts = {k: np.round(v).astype(np.int64) for k, v in (("n", n), ("w", with_outcome), ("t", thin))}
        return pd.DataFrame({"n": counts["n"], "share": ratio(n, self.n), "expected_bad_rate": ratio(pd_sum, n),
                             "observed_bad_rate": ratio(bads, with_outcome), "n_with_outcome": counts["w"],
                             "n_thin_file": counts["t"]}, index=pd.Index(list(groups), name="group"))

    # -------------------------------------------------------------- figures of one policy
    def swap_summary(self, approved: np.ndarray, bureau_cutoff: float) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The swap sets' summary and 2x2 matrix (:func:`~cb_core.strategy.bureau.swap_sets`) of our
        ``approved`` rows against bureau cutoff ``bureau_cutoff``."""
        with np.errstate(invalid="ignore"):
            theirs = self.bureau >= bureau_cutoff  # NaN (thin file) compares False: declined
        cells = approved.astype(np.int64) * 2 + theirs
        summary = self.groups(cells, 4, {"both_approve": lambda c: c == 3, "swap_in": lambda c: c == 2,
                                         "swap_out": lambda c: c == 1, "both_decline": lambda c: c == 0,
                                         "approved_ours": lambda c: c >= 2, "approved_bureau": lambda c: c % 2 == 1})
        n = summary["n"]
        matrix = pd.DataFrame([[int(n["both_approve"]), int(n["swap_in"])], [int(n["swap_out"]), int(n["both_decline"])]],
                              index=["ours: approve", "ours: not approved"], columns=["bureau: approve", "bureau: decline"])
        return summary, matrix

    def uplift(self, policy: Policy) -> ThinFileUplift:
        """:func:`~cb_core.strategy.bureau.thin_file_uplift` of ``policy`` against the bureau points."""
        ours = self.codes(policy) == 0
        theirs = decision_codes(self.points, self.cutoffs(policy), policy.refer_cutoff) == 0
        graded, thin = ~np.isnan(self.points), self.thin_flag
        ours_grade, their_grade = self._grades(policy, "ours"), self._grades(policy, "bureau")
        turned, better = ours & ~theirs, graded & (ours_grade < their_grade)
        upgraded = turned | better
        n_thin = int(thin.sum())
        rate_ours, rate_theirs = ratio((ours & thin).sum(), n_thin), ratio((theirs & thin).sum(), n_thin)
        n_ours = int(ours.sum())
        return ThinFileUplift(
            n_applicants=self.n, n_thin_file=n_thin, thin_file_approval_rate=float(rate_ours),
            thin_file_approval_rate_bureau_only=float(rate_theirs), thin_file_uplift=float(rate_ours - rate_theirs),
            n_approved=n_ours, n_turned_to_approval=int(turned.sum()), n_better_grade=int(better.sum()),
            n_upgraded=int(upgraded.sum()), upgraded_share_of_applicants=float(ratio(upgraded.sum(), self.n)),
            upgraded_share_of_approved=float(ratio((upgraded & ours).sum(), n_ours)),
            n_turned_to_decline=int((theirs & ~ours).sum()),
            n_worse_grade=int((graded & (ours_grade > their_grade)).sum()))

    def rescue_summary(self, policy: Policy) -> pd.DataFrame:
        """The summary of :func:`~cb_core.strategy.bureau.rescue_view` (its ``positive_only`` flag
        ignored; two-stage rows when the frame was prepared with a platform-only score)."""
        plain = replace(policy, positive_only=False)
        cut, refer = self.cutoffs(plain), plain.refer_cutoff
        ours = decision_codes(self.score, cut, refer)
        bits = ((ours == 0).astype(np.int64) + 2 * (decision_codes(self.points, cut, refer) == 0)
                + 4 * (decision_codes(self.final, cut, refer) == 0))
        groups: dict[str, Callable[[np.ndarray], np.ndarray]] = {
            "approved_bureau_only": lambda c: c & 2 > 0, "approved_ours": lambda c: c & 1 > 0,
            "approved_positive_only": lambda c: c & 4 > 0, "lifted_by_platform": lambda c: (c & 4 > 0) & (c & 2 == 0),
            "protected_by_floor": lambda c: (c & 4 > 0) & (c & 1 == 0)}
        n_cells = 8
        if self.platform is not None:
            bits = bits + 8 * (ours == 2) + 16 * (decision_codes(self.platform, cut, refer) == 0)
            rescued = lambda c: (c & 8 > 0) & (c & 16 > 0)  # noqa: E731 - stage-1 declined, approved on platform data
            groups.update({"stage1_declined": lambda c: c & 8 > 0, "stage2_rescued": rescued,
                           "approved_two_stage": lambda c: (c & 1 > 0) | rescued(c)})
            n_cells = 32
        return self.groups(bits, n_cells, groups)

    def segment_rates(self, policy: Policy, by: str) -> pd.DataFrame:
        """:func:`~cb_core.strategy.segments.segment_rates` of ``policy`` by ``by``."""
        codes, labels, sizes = self.segment_codes(by)
        approved = (self.codes(policy) == 0).astype(float)
        sums = [np.bincount(codes, weights=w, minlength=len(labels))
                for w in (approved, self.pd * approved, self.has_outcome * approved, self.bad * approved)]
        return pd.DataFrame({by: labels, "n": sizes, "share": sizes / self.n, "n_approved": sums[0].astype(int),
                             "approval_rate": ratio(sums[0], sizes), "expected_bad_rate": ratio(sums[1], sums[0]),
                             "n_approved_with_outcome": sums[2].astype(int),
                             "observed_bad_rate": ratio(sums[3], sums[2])})


__all__ = ["PreparedFrame"]
