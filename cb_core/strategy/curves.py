"""Approval / bad rate / loss / revenue / profit at every cutoff, precomputed once per book.

:meth:`CutoffCurves.precompute` sorts the merchants by score (best first) once and keeps, at each
distinct score, the running sums of everything a :class:`~cb_core.strategy.policy.PolicyResult`
is made of (count, PD, PD x exposure, exposure, exposure x APR and x fee when per merchant,
merchants with an outcome, observed bads). The approved at cutoff *c* are the merchants scoring
``>= c``: a prefix of that order, found with one binary search, so :meth:`CutoffCurves.at` is
O(log n) and the whole :meth:`CutoffCurves.table` is one vectorised search over the cutoffs.

Segment overrides and the positive-only option of the policy given to ``precompute`` are fixed
for the life of the curves: merchants an override covers keep their own cutoff (their approvals
are a constant), the slider moves the cutoff of everyone else. Economics (LGD, APR, fee, funding,
term) may change at every call without precomputing again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import PolicyError
from ..model import SCORE_MAX, SCORE_MIN
from .policy import Policy, with_cutoffs
from .results import (
    RESULT_FIELDS, SUM_NAMES, PolicyResult, approve_cutoffs, as_result, effective_score, result_columns, row_terms,
)
from ._inputs import frame_arrays, segment_values


_COUNTS = frozenset({"n_merchants", "n_approved", "n_referred", "n_declined", "n_approved_with_outcome",
                     "observed_bads"})


def _sort_descending(score: np.ndarray) -> np.ndarray:
    """Row order by score, best first (stable). Whole-point scores sort as 16-bit keys (radix)."""
    if np.all(score == np.round(score)):
        return np.argsort((SCORE_MAX - score).astype(np.int16), kind="stable")
    return np.argsort(-score, kind="stable")


@dataclass(frozen=True, eq=False)
class CutoffCurves:
    """Running sums by score of one book under one policy's overrides. Build with :meth:`precompute`.

    Attributes
    ----------
    policy : Policy
        The policy precomputed for (its segment overrides and ``positive_only`` are fixed).
    n_merchants : int
    scores_desc : ndarray
        Distinct scores of the merchants the slider moves, best first.
    cum : dict of ndarray
        ``"n"`` and each of :data:`~cb_core.strategy.policy.SUM_NAMES` (``None`` where the policy's
        scalar applies): ``cum[k][j]`` sums the merchants scoring ``>= scores_desc[j - 1]``;
        ``cum[k][0] = 0``.
    fixed : dict of float
        The same sums over the merchants a segment override approves.
    fixed_rest_scores : ndarray
        Sorted scores of the overridden merchants it does not approve (candidates for refer).
    """

    policy: Policy
    n_merchants: int
    scores_desc: np.ndarray
    cum: dict[str, np.ndarray | None]
    fixed: dict[str, float | None]
    fixed_rest_scores: np.ndarray

    @classmethod
    def precompute(cls, frame: pd.DataFrame, policy: Policy | None = None) -> CutoffCurves:
        """Sort ``frame`` by score once and keep the running sums.

        Parameters
        ----------
        frame : DataFrame
            A strategy frame.
        policy : Policy, optional
            Its segment overrides, ``positive_only`` and default economics; ``Policy()`` if omitted.

        Returns
        -------
        CutoffCurves
        """
        policy = policy or Policy()
        arrays = frame_arrays(frame)
        score = effective_score(frame, policy, arrays.score)
        terms = row_terms(arrays)
        if policy.segment_cutoffs:
            own_cut = approve_cutoffs(frame, policy)
            # by membership, not by value: an override equal to today's base cutoff stays put
            # when the slider moves
            overridden = _covered(frame, policy)
        else:
            own_cut, overridden = None, np.zeros(arrays.n, dtype=bool)
        free = ~overridden
        order = np.flatnonzero(free)[_sort_descending(score[free])]
        s = score[order]
        ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True]) if len(s) else np.zeros(0, dtype=np.int64)
        cum: dict[str, np.ndarray | None] = {"n": np.r_[0, ends + 1].astype(float)}
        for name in SUM_NAMES:
            values = terms[name]
            cum[name] = None if values is None else np.r_[0.0, np.cumsum(values[order])[ends]]
        fixed: dict[str, float | None] = {"n": 0.0, **{k: (None if terms[k] is None else 0.0) for k in SUM_NAMES}}
        rest = np.zeros(0)
        if overridden.any():
            approved = overridden & (score >= own_cut)
            fixed["n"] = float(approved.sum())
            for name in SUM_NAMES:
                if terms[name] is not None:
                    fixed[name] = float(terms[name][approved].sum())
            rest = np.sort(score[overridden & ~approved])
        return cls(policy, arrays.n, s[ends], cum, fixed, rest)

    # -------------------------------------------------------------- lookups
    def _check(self, policy: Policy) -> None:
        if policy.segment_key() != self.policy.segment_key() or policy.positive_only != self.policy.positive_only:
            raise PolicyError("these curves were precomputed for other segment cutoffs or positive-only option; "
                              "precompute them again for this policy", key="err_curves_these_curves_were_precomputed")

    def _count_at_least(self, cutoffs: np.ndarray) -> np.ndarray:
        """Index into ``cum`` of the merchants scoring ``>= cutoff`` (vectorised)."""
        return np.searchsorted(-self.scores_desc, -np.asarray(cutoffs, dtype=float), side="right")

    def _columns(self, approve: np.ndarray, refer: np.ndarray, policy: Policy) -> dict[str, np.ndarray]:
        j, jr = self._count_at_least(approve), self._count_at_least(refer)
        n_cum = self.cum["n"]
        n_approved = n_cum[j] + self.fixed["n"]
        rest = self.fixed_rest_scores
        n_referred = (n_cum[jr] - n_cum[j]) + (len(rest) - np.searchsorted(rest, refer, side="left"))
        sums = {k: (None if self.cum[k] is None else self.cum[k][j] + self.fixed[k]) for k in SUM_NAMES}
        return result_columns(self.n_merchants, n_approved, n_referred, sums, policy)

    def evaluate(self, policy: Policy) -> PolicyResult:
        """:func:`~cb_core.strategy.policy.evaluate` of ``policy`` in O(log n); its segment
        overrides and positive-only option must be the precomputed ones."""
        self._check(policy)
        cols = self._columns(np.asarray(policy.approve_cutoff), np.asarray(policy.refer_cutoff), policy)
        return as_result(cols)

    def at(self, approve_cutoff: float, refer_cutoff: float | None = None) -> PolicyResult:
        """Result at one approve cutoff (the slider), with the precomputed policy's economics.

        ``refer_cutoff`` defaults to the policy's, lowered to ``approve_cutoff`` when above it.
        """
        return self.evaluate(with_cutoffs(self.policy, approve_cutoff, refer_cutoff))

    def table(self, step: float = 1, policy: Policy | None = None) -> pd.DataFrame:
        """Every :class:`PolicyResult` field at each approve cutoff ``1, 1 + step, ... <= 1000``.

        Parameters
        ----------
        step : float
            Distance between cutoffs (> 0).
        policy : Policy, optional
            Economics and refer cutoff (lowered to each approve cutoff when above it); defaults to
            the precomputed policy.

        Returns
        -------
        DataFrame
            ``approve_cutoff``, ``refer_cutoff`` and one column per :class:`PolicyResult` field.
        """
        policy = policy or self.policy
        self._check(policy)
        if not step > 0:
            raise PolicyError(f"step must be greater than 0; got {step}", key="err_curves_step_greater_than_got", step=step)
        approve = np.arange(SCORE_MIN, SCORE_MAX + step / 2, step, dtype=float)
        approve = approve[approve <= SCORE_MAX]
        refer = np.minimum(policy.refer_cutoff, approve)
        cols = self._columns(approve, refer, policy)
        out = {"approve_cutoff": approve, "refer_cutoff": refer}
        for name in RESULT_FIELDS:  # built as one dict: a column set at a time costs more than the sums
            column = np.broadcast_to(np.asarray(cols[name], dtype=float), approve.shape)
            out[name] = np.round(column).astype(np.int64) if name in _COUNTS else np.array(column)
        return pd.DataFrame(out)


def _covered(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Merchants some segment override applies to."""
    covered = np.zeros(len(frame), dtype=bool)
    for column, value, _ in policy.segment_cutoffs:
        covered |= (segment_values(frame, column) == value).to_numpy(dtype=bool, na_value=False)
    return covered
